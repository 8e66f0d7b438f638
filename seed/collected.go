package seed

import (
	"context"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/applog"
	"veil/ent/calllogentry"
	"veil/ent/faceverification"
	"veil/ent/notice"
	"veil/ent/realnameverification"
	"veil/ent/rightsrequest"
	"veil/ent/supportticket"
	"veil/ent/thirdpartybinding"
	entuser "veil/ent/user"
	"veil/rights"
	"veil/sharing"
	"veil/store"
)

// EnsureCollected gives u one record of every kind POLICY.md P1 collects,
// unless u has them already.
func EnsureCollected(ctx context.Context, c *ent.Client, u *ent.User, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	has := func(q interface {
		Exist(context.Context) (bool, error)
	}) (bool, error) {
		return q.Exist(ctx)
	}
	if ok, err := has(c.User.Query().Where(entuser.ID(u.ID), entuser.HasDevices())); err != nil || !ok {
		if err != nil {
			return err
		}
		imei, idfa := "86753090"+u.Phone[4:11], "6D92078A-8246-4BA4-AE5B-76104861E7DC"
		if err := c.Device.Create().SetUserID(u.ID).
			SetModel("iPhone 14").SetOs("iOS").SetOsVersion("17.5").SetClientVersion("5.2.0").
			SetResolution("1170x2532").SetPackageName("com.example.trade").SetSettings(`{"push":true}`).
			SetAppList([]string{"WeChat", "Alipay"}).SetImei(imei).SetIdfa(idfa).SetOaid("oaid-" + u.Phone[7:]).SetMAC("3C:22:FB:01:02:03").
			SetImsi("4600012" + u.Phone[3:11]).SetRegisteredAt(now).Exec(ctx); err != nil {
			return err
		}
	}
	if ok, err := has(c.AppLog.Query().Where(applog.UserID(u.ID))); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := c.AppLog.CreateBulk(
			c.AppLog.Create().SetUserID(u.ID).SetKind(applog.KindSTARTUP).SetAppVersion("5.2.0").SetOsVersion("iOS 17.5").
				SetDeviceModel("iPhone 14").SetStartupMs(840).SetOccurredAt(now),
			c.AppLog.Create().SetUserID(u.ID).SetKind(applog.KindCRASH).SetAppVersion("5.2.0").SetOsVersion("iOS 17.5").
				SetDeviceModel("iPhone 14").SetCrashType("EXC_BAD_ACCESS").
				SetStack("0 Trade 0x1 ListingView.render\n1 Trade 0x2 "+u.Nickname).SetOccurredAt(now),
		).Exec(ctx); err != nil {
			return err
		}
	}
	if ok, err := has(c.ActivityLog.Query().Where(activitylog.UserID(u.ID))); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := c.ActivityLog.Create().SetUserID(u.ID).SetKind(activitylog.KindSEARCH).
			SetSearchQuery("二手自行车 " + u.Nickname).SetIP("203.0.113.45").SetBrowser("Safari 17").
			SetCarrier("China Mobile").SetNetwork("wifi").SetLanguage("zh-CN").SetPage("/search").
			SetTarget("listing").SetStaySeconds(42).SetLoginAccount(u.Phone).SetOccurredAt(now).Exec(ctx); err != nil {
			return err
		}
	}
	if ok, err := has(c.User.Query().Where(entuser.ID(u.ID), entuser.HasContacts())); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
			return tx.Contact.Create().SetUserID(u.ID).SetName("李四").SetPhone("13987654321").SetUploadedAt(now).Exec(ctx)
		}); err != nil {
			return err
		}
	}
	if ok, err := has(c.CallLogEntry.Query().Where(calllogentry.UserID(u.ID))); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
			return tx.CallLogEntry.Create().SetUserID(u.ID).SetPhone("13987654321").
				SetDirection(calllogentry.DirectionOUTGOING).SetStartedAt(now.Add(-time.Hour)).SetDurationSeconds(95).Exec(ctx)
		}); err != nil {
			return err
		}
	}
	if ok, err := has(c.User.Query().Where(entuser.ID(u.ID), entuser.HasLocations())); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := store.WithTx(ctx, c, func(tx *ent.Tx) error {
			return tx.Location.Create().SetUserID(u.ID).SetLatitude(39.9087).SetLongitude(116.3975).
				SetAccuracyMeters(12).SetAddress("北京市东城区东长安街1号").SetRecordedAt(now).Exec(ctx)
		}); err != nil {
			return err
		}
	}
	if ok, err := has(c.ThirdPartyBinding.Query().Where(thirdpartybinding.UserID(u.ID))); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := c.ThirdPartyBinding.Create().SetUserID(u.ID).SetProvider(thirdpartybinding.ProviderWECHAT).
			SetOpenID("oWx_" + u.Phone).SetUsername("wx_" + u.Phone[7:]).SetNickname(u.Nickname).
			SetAvatarURL("https://wx.example.com/a.png").SetBoundAt(now).Exec(ctx); err != nil {
			return err
		}
	}
	if ok, err := has(c.User.Query().Where(entuser.ID(u.ID), entuser.HasSupportTickets())); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := c.SupportTicket.Create().SetUserID(u.ID).SetContact(u.Phone).
			SetContent("我的订单还没有发货").SetHandlingRecord("已联系卖家催发货").SetOpenedAt(now).
			SetStatus(supportticket.StatusCLOSED).SetClosedAt(now).Exec(ctx); err != nil {
			return err
		}
	}
	if ok, err := has(c.FaceVerification.Query().Where(faceverification.UserID(u.ID))); err != nil || !ok {
		if err != nil {
			return err
		}
		if err := c.FaceVerification.Create().SetUserID(u.ID).SetResult(faceverification.ResultPASSED).
			SetProvider("tencent-faceid").SetVerifiedAt(now).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// EnsureRealNameVerification records the passing verification behind a
// seeded user's real name, unless one exists.
func EnsureRealNameVerification(ctx context.Context, c *ent.Client, u *ent.User, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	if u.RealName == "" {
		return nil
	}
	exists, err := c.RealNameVerification.Query().Where(realnameverification.UserID(u.ID)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	return store.WithTx(ctx, c, func(tx *ent.Tx) error {
		return tx.RealNameVerification.Create().SetUserID(u.ID).
			SetRealName(u.RealName).SetIDNumber(u.IDNumber).SetIDPhotoRef("idphoto://verifier/" + u.Phone[7:]).
			SetResult(realnameverification.ResultPASSED).SetVerifier("alipay-identity").SetVerifiedAt(now).Exec(ctx)
	})
}

// EnsureRightsRequest records an answered export request of u's, unless u
// has one.
func EnsureRightsRequest(ctx context.Context, c *ent.Client, u *ent.User, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	exists, err := c.RightsRequest.Query().Where(rightsrequest.UserID(u.ID)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	return c.RightsRequest.Create().SetUserID(u.ID).SetKind(rightsrequest.KindEXPORT).
		SetRequesterID(u.ID).SetCreatedAt(now).SetDueAt(rights.DueDate(now, rights.ResponseWorkingDays)).
		SetStatus(rightsrequest.StatusCOMPLETED).SetCompletedAt(now).SetOutcome("export document delivered").
		Exec(ctx)
}

// EnsureDisclosureNotice records that u's contact details were disclosed
// on a legal demand they may be told of, with the notice telling them,
// unless u has a notice.
func EnsureDisclosureNotice(ctx context.Context, c *ent.Client, u *ent.User, now time.Time) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	exists, err := c.Notice.Query().Where(notice.UserID(u.ID)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	return store.WithTx(ctx, c, func(tx *ent.Tx) error {
		if err := sharing.Disclose(ctx, tx.Client(), sharing.Disclosure{To: sharing.Authority, Party: "authority:demo court",
			Subject: u.ID, Classes: []*classification.Class{classification.Contact}}, now); err != nil {
			return err
		}
		return tx.Notice.Create().SetUserID(u.ID).SetKind(notice.KindLEGAL_DISCLOSURE).SetCreatedAt(now).
			SetMessage(sharing.DisclosureNotice(now, []string{classification.Contact.Name}, "demo court", "DEMO-0001")).
			Exec(ctx)
	})
}
