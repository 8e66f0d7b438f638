package classification

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// Wildcard is the list index of a compact report entry that stands for
// every element of the list.
const Wildcard = "*"

// Withheld reports values a viewer did not get raw, so a client can tell
// "withheld" from "empty". It names the class, never the value.
//
// An entry is one value, or, when every element of a list got the same
// decision for a field, all of them: its path then holds Wildcard in place
// of the list's index, and Count says how many values it stands for. A
// client expands it exactly by replacing each Wildcard with every index of
// the list found at that place in the response's data.
type Withheld struct {
	// Path is the response path, encoded as a JSON array:
	// ["users","edges",0,"node","phone"] or ["users","edges","*","node","phone"].
	Path     json.RawMessage `json:"path"`
	Class    string          `json:"class"`
	Decision string          `json:"decision"`
	// Count is set on an entry whose path holds a Wildcard.
	Count int `json:"count,omitempty"`
}

// WithheldList is the value of the withheld extension. It encodes itself
// without reflection.
type WithheldList []Withheld

// MarshalJSON implements json.Marshaler.
func (l WithheldList) MarshalJSON() ([]byte, error) {
	n := 2
	for _, w := range l {
		n += len(w.Path) + len(w.Class) + 72
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, w := range l {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"path":`...)
		buf = append(buf, w.Path...)
		buf = append(buf, `,"class":`...)
		buf = appendJSONString(buf, w.Class)
		buf = append(buf, `,"decision":`...)
		buf = appendJSONString(buf, w.Decision)
		if w.Count > 0 {
			buf = append(buf, `,"count":`...)
			buf = strconv.AppendInt(buf, int64(w.Count), 10)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}

// appendJSONString appends s as a JSON string. GraphQL names and class
// names need no escaping; anything else goes through encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			quoted, _ := json.Marshal(s)
			return append(buf, quoted...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// step is one step of a response path: a field's alias, or a list index
// with the length of its list (-1 when unknown), or the wildcard.
type step struct {
	alias string
	index int // ≥ 0, or wildcardIndex; meaningless for a field
	n     int
}

const wildcardIndex = -1

func (s step) isIndex() bool { return s.alias == "" }

func (s step) isWildcard() bool { return s.isIndex() && s.index == wildcardIndex }

// pathOf returns fc's response path, as graphql.FieldContext.Path would
// give it, with the length of each list it passes through.
func pathOf(fc *graphql.FieldContext) []step {
	depth := 0
	for it := fc; it != nil; it = it.Parent {
		if it.Index != nil || it.Field.Field != nil {
			depth++
		}
	}
	path := make([]step, depth)
	for it := fc; it != nil; it = it.Parent {
		switch {
		case it.Index != nil:
			depth--
			path[depth] = step{index: *it.Index, n: listLen(it.Parent)}
		case it.Field.Field != nil:
			depth--
			path[depth] = step{alias: it.Field.Alias}
		}
	}
	return path
}

// listLen is the length of the list a list field resolved to, or -1.
func listLen(fc *graphql.FieldContext) int {
	if fc == nil || fc.Result == nil {
		return -1
	}
	v := reflect.ValueOf(fc.Result)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return -1
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return -1
	}
	return v.Len()
}

// entry is a report entry being compacted.
type entry struct {
	path   []step
	class  *Class
	action Action
	count  int
	// next is the position in path of the innermost list index not yet
	// replaced by the wildcard, or -1.
	next int
}

func innermostIndex(path []step, before int) int {
	for i := before - 1; i >= 0; i-- {
		if path[i].isIndex() && !path[i].isWildcard() {
			return i
		}
	}
	return -1
}

// compact merges, from the innermost list outwards, the entries that
// differ only in one list index and have the same class, when there is one
// for every element of that list (values served raw are noted too, with
// the Raw action, so that they can be): one entry with the wildcard takes
// the decision most of them have, and the others stay as they are,
// exceptions to it, a raw value as an entry with the RAW decision. It
// merges only where that makes fewer entries. An outer list merges only
// entries already merged inside, so an entry's wildcards are always its
// innermost list indices, and of the entries that match a value's path,
// the one with the fewest wildcards is the one that reports it. Raw
// entries that are no exception to a wildcard are left out.
func compact(entries []*entry) []*entry {
	active := make([]*entry, 0, len(entries))
	for _, e := range entries {
		if e.next = innermostIndex(e.path, len(e.path)); e.next >= 0 {
			active = append(active, e)
		}
	}
	dropped, exception := map[*entry]bool{}, map[*entry]bool{}
	var key strings.Builder
	for len(active) > 0 {
		groups := map[string][]*entry{}
		var order []string
		for _, e := range active {
			key.Reset()
			for i, s := range e.path {
				switch {
				case i == e.next || s.isWildcard():
					key.WriteString("\x00*")
				case s.isIndex():
					key.WriteByte(0)
					key.WriteString(strconv.Itoa(s.index))
				default:
					key.WriteByte(1)
					key.WriteString(s.alias)
				}
			}
			key.WriteByte(2)
			key.WriteString(e.class.Name)
			k := key.String()
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], e)
		}
		active = active[:0]
		for _, k := range order {
			g := groups[k]
			at := g[0].next
			n := g[0].path[at].n
			if n <= 0 || len(g) != n || !coversAll(g, at, n) {
				continue // these entries stay as they are
			}
			a, most, reported := majority(g)
			if reported == 0 || 1+n-most > reported {
				continue // merging would not make fewer entries
			}
			merged := &entry{path: append([]step(nil), g[0].path...), class: g[0].class, action: a}
			merged.path[at] = step{index: wildcardIndex, n: n}
			for _, e := range g {
				if e.action == a {
					merged.count += e.count
					dropped[e] = true
				} else {
					exception[e] = true
				}
			}
			entries = append(entries, merged)
			if merged.next = innermostIndex(merged.path, at); merged.next >= 0 {
				active = append(active, merged)
			}
		}
	}
	out := entries[:0]
	for _, e := range entries {
		if !dropped[e] && (e.action != Raw || exception[e]) {
			out = append(out, e)
		}
	}
	return out
}

// majority is the decision, other than Raw, most entries of g have (of
// two as common, the lesser), how many have it, and how many have one.
func majority(g []*entry) (a Action, most, reported int) {
	var n [Raw]int
	for _, e := range g {
		if e.action != Raw {
			n[e.action]++
			reported++
		}
	}
	for i, c := range n {
		if c > most {
			a, most = Action(i), c
		}
	}
	return a, most, reported
}

// coversAll reports whether the entries' indices at position at are
// exactly 0 … n-1.
func coversAll(g []*entry, at, n int) bool {
	seen := make([]bool, n)
	for _, e := range g {
		i := e.path[at].index
		if i < 0 || i >= n || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

func appendSteps(buf []byte, path []step) []byte {
	buf = append(buf, '[')
	for i, s := range path {
		if i > 0 {
			buf = append(buf, ',')
		}
		switch {
		case !s.isIndex():
			buf = appendJSONString(buf, s.alias)
		case s.index == wildcardIndex:
			buf = append(buf, `"`+Wildcard+`"`...)
		default:
			buf = strconv.AppendInt(buf, int64(s.index), 10)
		}
	}
	return append(buf, ']')
}

// report lists what was withheld, compacted, sorted by path (fields
// resolve concurrently, so they were noted in no particular order). The
// paths share one buffer. With pruned set, only values whose path data
// holds are reported (an error may have nulled the objects around others).
func (st *requestState) report(data any, pruned bool) WithheldList {
	entries := make([]*entry, 0, len(st.withheld))
	for _, w := range st.withheld {
		e := &entry{path: pathOf(w.fc), class: w.class, action: w.action, count: 1}
		if !pruned || holds(data, e.path) {
			entries = append(entries, e)
		}
	}
	entries = compact(entries)
	if len(entries) == 0 {
		return nil
	}
	buf := make([]byte, 0, 64*len(entries))
	ends := make([]int, len(entries))
	for i, e := range entries {
		buf = appendSteps(buf, e.path)
		ends[i] = len(buf)
	}
	list := make(WithheldList, len(entries))
	start := 0
	for i, e := range entries {
		list[i] = Withheld{Path: buf[start:ends[i]:ends[i]], Class: e.class.Name, Decision: e.action.String()}
		if hasWildcard(e.path) {
			list[i].Count = e.count
		}
		start = ends[i]
	}
	sort.Slice(list, func(i, j int) bool { return bytes.Compare(list[i].Path, list[j].Path) < 0 })
	return list
}

// holds reports whether data, a decoded response, has a value (null
// included) at path.
func holds(data any, path []step) bool {
	v := data
	for _, s := range path {
		switch {
		case s.isIndex():
			l, ok := v.([]any)
			if !ok || s.index < 0 || s.index >= len(l) {
				return false
			}
			v = l[s.index]
		default:
			o, ok := v.(map[string]any)
			if !ok {
				return false
			}
			if v, ok = o[s.alias]; !ok {
				return false
			}
		}
	}
	return true
}

func hasWildcard(path []step) bool {
	for _, s := range path {
		if s.isWildcard() {
			return true
		}
	}
	return false
}

// Expand applies a withheld report to the data of the response it came
// with, as a client does, and returns each withheld value's path, its
// steps joined by ".", with the entry that reports it. An entry whose path
// holds the wildcard matches the value at every index of the list there;
// of the entries matching a value, the one with the fewest wildcards
// reports it; an entry with the RAW decision reports a value served as
// stored, an exception to a wildcard. It fails on a report a client could not read exactly: an
// entry naming a place the data does not have, two entries equally
// specific for one value, or a count other than the values an entry
// reports.
func Expand(data any, report WithheldList) (map[string]Withheld, error) {
	type claim struct {
		entry, wild int
	}
	best := map[string]claim{}
	for i, w := range report {
		var path []any
		if err := json.Unmarshal(w.Path, &path); err != nil || len(path) == 0 {
			return nil, fmt.Errorf("entry %d: malformed path %s", i, w.Path)
		}
		wild := 0
		for _, s := range path {
			if s == Wildcard {
				wild++
			}
		}
		if (wild > 0) != (w.Count > 0) {
			return nil, fmt.Errorf("entry %s: a count goes with a wildcard, and only with one", w.Path)
		}
		err := expandPath(data, path, nil, func(p string) error {
			if c, ok := best[p]; ok {
				if c.wild == wild {
					return fmt.Errorf("%s is reported twice", p)
				}
				if c.wild < wild {
					return nil
				}
			}
			best[p] = claim{i, wild}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", w.Path, err)
		}
	}
	out := make(map[string]Withheld, len(best))
	reports := make([]int, len(report))
	for p, c := range best {
		if report[c.entry].Decision != Raw.String() {
			out[p] = report[c.entry]
		}
		reports[c.entry]++
	}
	for i, w := range report {
		if want := max(w.Count, 1); reports[i] != want {
			return nil, fmt.Errorf("entry %s reports %d values, not %d", w.Path, reports[i], want)
		}
	}
	return out, nil
}

func expandPath(v any, rest []any, done []string, claim func(string) error) error {
	if len(rest) == 0 {
		return claim(strings.Join(done, "."))
	}
	here := strings.Join(done, ".")
	switch s := rest[0].(type) {
	case string:
		if s == Wildcard {
			l, ok := v.([]any)
			if !ok {
				return fmt.Errorf("no list at %q", here)
			}
			for i, e := range l {
				if err := expandPath(e, rest[1:], append(done, strconv.Itoa(i)), claim); err != nil {
					return err
				}
			}
			return nil
		}
		o, ok := v.(map[string]any)
		if _, has := o[s]; !ok || !has {
			return fmt.Errorf("no %q at %q", s, here)
		}
		return expandPath(o[s], rest[1:], append(done, s), claim)
	case float64:
		l, ok := v.([]any)
		if !ok || s < 0 || int(s) >= len(l) || s != float64(int(s)) {
			return fmt.Errorf("no element %v at %q", s, here)
		}
		return expandPath(l[int(s)], rest[1:], append(done, strconv.Itoa(int(s))), claim)
	}
	return fmt.Errorf("bad step %v at %q", rest[0], here)
}
