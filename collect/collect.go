// Package collect writes what the app collects about its user (POLICY.md
// P1.4-P1.7): devices, activity, address book, call log, location,
// third-party accounts and support tickets. Each function validates its
// input, then writes; the consent a class needs is checked by the
// collection hook on the write itself, so no path here can skip it.
// Batches are written as one bulk insert: all or nothing.
package collect

import (
	"context"
	"time"

	"veil/check"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/applog"
	"veil/ent/calllogentry"
	"veil/ent/thirdpartybinding"
	"veil/fault"
	"veil/privacy"
	"veil/store"
)

// Batch limits.
const (
	MaxActivityBatch = 100
	MaxContactBatch  = 500
)

// DeviceInput is the GraphQL input DeviceInput.
type DeviceInput struct {
	Model         string   `json:"model"`
	Os            string   `json:"os"`
	OsVersion     string   `json:"osVersion"`
	ClientVersion string   `json:"clientVersion"`
	Resolution    string   `json:"resolution"`
	PackageName   string   `json:"packageName"`
	Settings      *string  `json:"settings"`
	AppList       []string `json:"appList"`
	Imei          *string  `json:"imei"`
	Idfa          *string  `json:"idfa"`
	Oaid          *string  `json:"oaid"`
	Mac           *string  `json:"mac"`
	Imsi          *string  `json:"imsi"`
}

// RegisterDevice records the device userID uses.
func RegisterDevice(ctx context.Context, c *ent.Client, userID int, in DeviceInput, now time.Time) (*ent.Device, error) {
	var v check.Checker
	v.Text("input.model", in.Model, 1, 64)
	v.Text("input.os", in.Os, 1, 32)
	v.Text("input.osVersion", in.OsVersion, 1, 32)
	v.Text("input.clientVersion", in.ClientVersion, 1, 32)
	v.Text("input.resolution", in.Resolution, 1, 16)
	v.Text("input.packageName", in.PackageName, 1, 128)
	v.OptionalText("input.settings", in.Settings, 2048)
	if len(in.AppList) > 500 {
		v.Fail("input.appList", "must hold at most 500 apps")
	}
	for i, a := range in.AppList {
		v.Text(check.Item("input.appList", i), a, 1, 128)
	}
	v.OptionalText("input.imei", in.Imei, 32)
	v.OptionalText("input.idfa", in.Idfa, 64)
	v.OptionalText("input.oaid", in.Oaid, 64)
	v.OptionalText("input.mac", in.Mac, 32)
	if in.Imsi != nil && !isIMSI(*in.Imsi) {
		v.Fail("input.imsi", "must be the SIM's IMSI: 14 or 15 digits")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	create := c.Device.Create().
		SetUserID(userID).
		SetModel(in.Model).SetOs(in.Os).SetOsVersion(in.OsVersion).
		SetClientVersion(in.ClientVersion).SetResolution(in.Resolution).SetPackageName(in.PackageName).
		SetNillableImei(in.Imei).SetNillableIdfa(in.Idfa).SetNillableOaid(in.Oaid).SetNillableMAC(in.Mac).SetNillableImsi(in.Imsi).
		SetRegisteredAt(now)
	if in.Settings != nil {
		create.SetSettings(*in.Settings)
	}
	if in.AppList != nil {
		create.SetAppList(in.AppList)
	}
	return create.Save(ctx)
}

// ActivityInput is the GraphQL input ActivityInput.
type ActivityInput struct {
	Kind         activitylog.Kind `json:"kind"`
	OccurredAt   time.Time        `json:"occurredAt"`
	LoginAccount *string          `json:"loginAccount"`
	SearchQuery  *string          `json:"searchQuery"`
	IP           *string          `json:"ip"`
	Browser      *string          `json:"browser"`
	Carrier      *string          `json:"carrier"`
	Network      *string          `json:"network"`
	Language     *string          `json:"language"`
	Page         *string          `json:"page"`
	Target       *string          `json:"target"`
	StaySeconds  *int             `json:"staySeconds"`
}

// RecordActivity records a batch of activity events, all or none.
func RecordActivity(ctx context.Context, c *ent.Client, userID int, in []*ActivityInput, now time.Time) (int, error) {
	var v check.Checker
	v.Batch("input", len(in), MaxActivityBatch)
	for i, a := range in {
		f := check.Item("input", i)
		if a.OccurredAt.After(now.Add(5*time.Minute)) || a.OccurredAt.Before(now.AddDate(-1, 0, 0)) {
			v.Fail(f+".occurredAt", "must be within the last year and not in the future")
		}
		v.OptionalText(f+".loginAccount", a.LoginAccount, 64)
		v.OptionalText(f+".searchQuery", a.SearchQuery, 256)
		v.OptionalText(f+".ip", a.IP, 45)
		v.OptionalText(f+".browser", a.Browser, 128)
		v.OptionalText(f+".carrier", a.Carrier, 32)
		v.OptionalText(f+".network", a.Network, 16)
		v.OptionalText(f+".language", a.Language, 16)
		v.OptionalText(f+".page", a.Page, 256)
		v.OptionalText(f+".target", a.Target, 128)
		if a.StaySeconds != nil {
			v.Int(f+".staySeconds", *a.StaySeconds, 0, 86400)
		}
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	builders := make([]*ent.ActivityLogCreate, len(in))
	for i, a := range in {
		builders[i] = c.ActivityLog.Create().
			SetUserID(userID).SetKind(a.Kind).SetOccurredAt(a.OccurredAt).
			SetNillableLoginAccount(a.LoginAccount).SetNillableSearchQuery(a.SearchQuery).SetNillableIP(a.IP).
			SetNillableBrowser(a.Browser).SetNillableCarrier(a.Carrier).SetNillableNetwork(a.Network).
			SetNillableLanguage(a.Language).SetNillablePage(a.Page).SetNillableTarget(a.Target).
			SetNillableStaySeconds(a.StaySeconds)
	}
	if _, err := c.ActivityLog.CreateBulk(builders...).Save(privacy.Batch(ctx)); err != nil {
		return 0, err
	}
	return len(in), nil
}

// isIMSI reports whether s is an IMSI: 14 or 15 digits (a mobile country
// and network code, then the subscriber number).
func isIMSI(s string) bool {
	if len(s) < 14 || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// MaxAppLogBatch is how many app logs one call may report.
const MaxAppLogBatch = 50

// AppLogInput is the GraphQL input AppLogInput.
type AppLogInput struct {
	Kind        applog.Kind `json:"kind"`
	OccurredAt  time.Time   `json:"occurredAt"`
	AppVersion  string      `json:"appVersion"`
	OsVersion   string      `json:"osVersion"`
	DeviceModel string      `json:"deviceModel"`
	StartupMs   *int        `json:"startupMs"`
	CrashType   *string     `json:"crashType"`
	Stack       *string     `json:"stack"`
}

// ReportAppLogs records a batch of the app's start-up and crash logs, all
// or none (POLICY.md P8). A STARTUP carries no crash; a CRASH names its
// type.
func ReportAppLogs(ctx context.Context, c *ent.Client, userID int, in []*AppLogInput, now time.Time) (int, error) {
	var v check.Checker
	v.Batch("input", len(in), MaxAppLogBatch)
	for i, a := range in {
		f := check.Item("input", i)
		if a.OccurredAt.After(now.Add(5*time.Minute)) || a.OccurredAt.Before(now.AddDate(0, -1, 0)) {
			v.Fail(f+".occurredAt", "must be within the last month and not in the future")
		}
		v.Text(f+".appVersion", a.AppVersion, 1, 32)
		v.Text(f+".osVersion", a.OsVersion, 1, 32)
		v.Text(f+".deviceModel", a.DeviceModel, 1, 64)
		v.OptionalText(f+".crashType", a.CrashType, 128)
		v.OptionalText(f+".stack", a.Stack, 8000)
		switch a.Kind {
		case applog.KindSTARTUP:
			if a.CrashType != nil || a.Stack != nil {
				v.Fail(f+".kind", "a STARTUP carries no crashType or stack")
			}
			if a.StartupMs != nil {
				v.Int(f+".startupMs", *a.StartupMs, 0, 600000)
			}
		case applog.KindCRASH:
			if a.CrashType == nil {
				v.Fail(f+".crashType", "a CRASH names its exception or signal")
			}
			if a.StartupMs != nil {
				v.Fail(f+".startupMs", "only a STARTUP has a start-up time")
			}
		}
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	builders := make([]*ent.AppLogCreate, len(in))
	for i, a := range in {
		builders[i] = c.AppLog.Create().
			SetUserID(userID).SetKind(a.Kind).SetOccurredAt(a.OccurredAt).
			SetAppVersion(a.AppVersion).SetOsVersion(a.OsVersion).SetDeviceModel(a.DeviceModel).
			SetNillableStartupMs(a.StartupMs).SetNillableCrashType(a.CrashType).SetNillableStack(a.Stack)
	}
	if _, err := c.AppLog.CreateBulk(builders...).Save(privacy.Batch(ctx)); err != nil {
		return 0, err
	}
	return len(in), nil
}

// ContactInput is the GraphQL input ContactInput.
type ContactInput struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// UploadContacts stores a batch of address-book entries, all or none.
func UploadContacts(ctx context.Context, c *ent.Client, userID int, in []*ContactInput, now time.Time) ([]*ent.Contact, error) {
	var v check.Checker
	v.Batch("input", len(in), MaxContactBatch)
	for i, ci := range in {
		f := check.Item("input", i)
		v.Text(f+".name", ci.Name, 1, 64)
		checkDialable(&v, f+".phone", ci.Phone)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []*ent.Contact
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		builders := make([]*ent.ContactCreate, len(in))
		for i, ci := range in {
			builders[i] = tx.Contact.Create().SetUserID(userID).SetName(ci.Name).SetPhone(ci.Phone).SetUploadedAt(now)
		}
		var err error
		out, err = tx.Contact.CreateBulk(builders...).Save(store.Batch(privacy.Batch(ctx)))
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, ct := range out {
		out[i] = ct.Unwrap()
	}
	return out, nil
}

// CallLogInput is the GraphQL input CallLogInput.
type CallLogInput struct {
	Phone           string                 `json:"phone"`
	Direction       calllogentry.Direction `json:"direction"`
	StartedAt       time.Time              `json:"startedAt"`
	DurationSeconds int                    `json:"durationSeconds"`
}

// UploadCallLog stores a batch of call-log entries, all or none.
func UploadCallLog(ctx context.Context, c *ent.Client, userID int, in []*CallLogInput, now time.Time) (int, error) {
	var v check.Checker
	v.Batch("input", len(in), MaxContactBatch)
	for i, e := range in {
		f := check.Item("input", i)
		checkDialable(&v, f+".phone", e.Phone)
		if e.StartedAt.After(now.Add(5 * time.Minute)) {
			v.Fail(f+".startedAt", "must not be in the future")
		}
		v.Int(f+".durationSeconds", e.DurationSeconds, 0, 86400)
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
		builders := make([]*ent.CallLogEntryCreate, len(in))
		for i, e := range in {
			builders[i] = tx.CallLogEntry.Create().SetUserID(userID).SetPhone(e.Phone).
				SetDirection(e.Direction).SetStartedAt(e.StartedAt).SetDurationSeconds(e.DurationSeconds)
		}
		return tx.CallLogEntry.CreateBulk(builders...).Exec(store.Batch(privacy.Batch(ctx)))
	})
	if err != nil {
		return 0, err
	}
	return len(in), nil
}

// LocationInput is the GraphQL input LocationInput.
type LocationInput struct {
	Latitude       float64  `json:"latitude"`
	Longitude      float64  `json:"longitude"`
	AccuracyMeters *float64 `json:"accuracyMeters"`
	Address        *string  `json:"address"`
}

// RecordLocation stores one precise position.
func RecordLocation(ctx context.Context, c *ent.Client, userID int, in LocationInput, now time.Time) (*ent.Location, error) {
	var v check.Checker
	v.Float("input.latitude", in.Latitude, -90, 90)
	v.Float("input.longitude", in.Longitude, -180, 180)
	if in.AccuracyMeters != nil {
		v.Float("input.accuracyMeters", *in.AccuracyMeters, 0, 100000)
	}
	v.OptionalText("input.address", in.Address, 256)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var l *ent.Location
	err := store.WithTx(ctx, c, func(tx *ent.Tx) (err error) {
		l, err = tx.Location.Create().SetUserID(userID).
			SetLatitude(in.Latitude).SetLongitude(in.Longitude).
			SetNillableAccuracyMeters(in.AccuracyMeters).SetNillableAddress(in.Address).
			SetRecordedAt(now).Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return l.Unwrap(), nil
}

// ThirdPartyAccountInput is the GraphQL input ThirdPartyAccountInput.
type ThirdPartyAccountInput struct {
	Provider  thirdpartybinding.Provider `json:"provider"`
	OpenID    string                     `json:"openId"`
	Username  *string                    `json:"username"`
	Nickname  *string                    `json:"nickname"`
	AvatarURL *string                    `json:"avatarUrl"`
}

// BindThirdPartyAccount binds a WeChat, QQ or Alipay account to userID.
func BindThirdPartyAccount(ctx context.Context, c *ent.Client, userID int, in ThirdPartyAccountInput, now time.Time) (*ent.ThirdPartyBinding, error) {
	var v check.Checker
	v.Text("input.openId", in.OpenID, 1, 128)
	v.OptionalText("input.username", in.Username, 64)
	v.OptionalText("input.nickname", in.Nickname, 64)
	v.OptionalText("input.avatarUrl", in.AvatarURL, 512)
	if err := v.Err(); err != nil {
		return nil, err
	}
	taken, err := c.ThirdPartyBinding.Query().
		Where(thirdpartybinding.ProviderEQ(in.Provider), thirdpartybinding.OpenID(in.OpenID)).
		Exist(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, fault.Invalid("input.openId", "this account is already bound to a user")
	}
	create := c.ThirdPartyBinding.Create().SetUserID(userID).
		SetProvider(in.Provider).SetOpenID(in.OpenID).SetBoundAt(now)
	if in.Username != nil {
		create.SetUsername(*in.Username)
	}
	if in.Nickname != nil {
		create.SetNickname(*in.Nickname)
	}
	if in.AvatarURL != nil {
		create.SetAvatarURL(*in.AvatarURL)
	}
	return create.Save(ctx)
}

// SupportTicketInput is the GraphQL input SupportTicketInput.
type SupportTicketInput struct {
	Contact string `json:"contact"`
	Content string `json:"content"`
}

// OpenSupportTicket opens a customer-service case for userID.
func OpenSupportTicket(ctx context.Context, c *ent.Client, userID int, in SupportTicketInput, now time.Time) (*ent.SupportTicket, error) {
	var v check.Checker
	v.Text("input.contact", in.Contact, 3, 64)
	v.Text("input.content", in.Content, 1, 4000)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return c.SupportTicket.Create().SetUserID(userID).
		SetContact(in.Contact).SetContent(in.Content).SetOpenedAt(now).Save(ctx)
}

// checkDialable requires a phone number as address books and call logs
// hold it: any country's, 3 to 32 characters.
func checkDialable(v *check.Checker, field, phone string) {
	v.Text(field, phone, 3, 32)
	if !isDialable(phone) {
		v.Fail(field, "must be digits, spaces, dashes and an optional leading +")
	}
}

func isDialable(s string) bool {
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == ' ', r == '-':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return true
}
