package analytics

import (
	"regexp"
	"strings"
)

// What leaves the export of the free-text fields of an activity event:
// each is reduced to a closed vocabulary, so that nothing a client wrote
// (a name in a browser string, a phone in a page's query) can pass.

// routeWords are the path segments page templates keep; any other
// segment (an ID, a name, a search term) becomes ":id".
var routeWords = map[string]bool{
	"home": true, "user": true, "users": true, "me": true, "profile": true, "settings": true,
	"listing": true, "listings": true, "item": true, "items": true, "category": true, "categories": true,
	"search": true, "order": true, "orders": true, "cart": true, "checkout": true, "pay": true,
	"messages": true, "chat": true, "favourites": true, "favorites": true, "share": true,
	"post": true, "posts": true, "new": true, "edit": true, "detail": true, "help": true,
	"privacy": true, "login": true, "logout": true, "seller": true, "sellers": true,
}

// maxRouteSegments bounds a template; a longer path is dropped.
const maxRouteSegments = 8

// RouteTemplate is routeTemplate, for the web app's page views.
func RouteTemplate(page string) string { return routeTemplate(page) }

// routeTemplate returns the route of a page: its path without query or
// fragment, each segment kept only if it is a route word, else ":id".
// Anything that is not a path is dropped.
func routeTemplate(page string) string {
	if i := strings.IndexAny(page, "?#"); i >= 0 {
		page = page[:i]
	}
	if !strings.HasPrefix(page, "/") {
		return ""
	}
	segments := strings.Split(strings.Trim(page, "/"), "/")
	if len(segments) > maxRouteSegments {
		return ""
	}
	for i, s := range segments {
		switch {
		case s == "" && len(segments) == 1:
		case routeWords[strings.ToLower(s)]:
			segments[i] = strings.ToLower(s)
		default:
			segments[i] = ":id"
		}
	}
	return "/" + strings.Join(segments, "/")
}

// browserFamilies are matched in order: the first product token a
// browser string holds names its family.
var browserFamilies = []struct{ token, family string }{
	{"MicroMessenger/", "WeChat"}, {"AlipayClient/", "Alipay"}, {"QQBrowser/", "QQ Browser"},
	{"UCBrowser/", "UC Browser"}, {"Edg/", "Edge"}, {"Firefox/", "Firefox"},
	{"Chrome/", "Chrome"}, {"Safari/", "Safari"},
}

// browserFamily reduces a browser string to its family, or "other".
func browserFamily(ua string) string {
	for _, b := range browserFamilies {
		if strings.Contains(ua, b.token) {
			return b.family
		}
	}
	return "other"
}

// carriers maps what clients report for the mainland carriers to one name.
var carriers = []struct {
	names []string
	name  string
}{
	{[]string{"中国移动", "china mobile", "cmcc"}, "China Mobile"},
	{[]string{"中国联通", "china unicom", "cucc"}, "China Unicom"},
	{[]string{"中国电信", "china telecom", "ctcc"}, "China Telecom"},
	{[]string{"中国广电", "china broadnet", "cbn"}, "China Broadnet"},
}

// carrierName reduces a carrier string to an allow-listed carrier, or
// "other".
func carrierName(s string) string {
	lower := strings.ToLower(s)
	for _, c := range carriers {
		for _, n := range c.names {
			if strings.Contains(lower, n) {
				return c.name
			}
		}
	}
	return "other"
}

// connections are the network types kept; anything else is dropped.
var connections = map[string]bool{"wifi": true, "ethernet": true, "2g": true, "3g": true, "4g": true, "5g": true}

func connection(s string) string {
	if s = strings.ToLower(s); connections[s] {
		return s
	}
	return ""
}

// languageTag is a language with an optional region (zh, zh-CN); anything
// else is dropped.
var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)

func language(s string) string {
	if languageTag.MatchString(s) {
		return s
	}
	return ""
}
