package seed

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"time"

	"veil/classification"
	"veil/ent"
	"veil/ent/policyversion"
	"veil/ent/thirdpartysdk"
	"veil/ledger"
)

// SDK is one entry of the third-party SDK inventory (POLICY.md P1.8).
type SDK struct {
	Name, Provider, Purpose, CollectionMoment, PolicyURL string
	DataTypes                                            []string
}

// SDKs are the eight SDKs the app embeds, as POLICY.md P1.8 lists them.
var SDKs = []SDK{
	{"Alipay SDK", "Alipay (China) Network Technology Co., Ltd.", "payment, risk control, location",
		"when the user pays or is risk-checked", "https://render.alipay.com/p/c/k2cx0tg8",
		[]string{"storage", "phone state", "location", "camera and album", "microphone", "contacts", "sensors"}},
	{"WeChat SDK", "Shenzhen Tencent Computer Systems Co., Ltd.", "payment, login, sharing",
		"when the user pays, logs in or shares with WeChat", "https://weixin.qq.com/cgi-bin/readtemplate?lang=zh_CN&t=weixin_agreement&s=privacy",
		[]string{"IMEI", "IMSI", "device model", "OS", "language", "network"}},
	{"Tencent Open Platform SDK", "Shenzhen Tencent Computer Systems Co., Ltd.", "QQ login and sharing",
		"when the user logs in or shares with QQ", "https://wiki.connect.qq.com/qq互联sdk隐私保护声明",
		[]string{"device id", "network"}},
	{"One-click phone login SDK", "China Mobile / China Unicom / China Telecom", "one-click login with the SIM's number",
		"when the user chooses one-click login", "https://wap.cmpassport.com/resources/html/contract.html",
		[]string{"device id", "phone number", "network"}},
	{"Tencent face verification SDK", "Tencent Cloud Computing (Beijing) Co., Ltd.", "live face verification",
		"when a face check is required and the user consents", "https://cloud.tencent.com/document/product/1007/41267",
		[]string{"camera", "identity", "face image"}},
	{"Umeng analytics SDK", "Umeng Tongxin (Beijing) Technology Co., Ltd.", "usage statistics",
		"at app start and during use", "https://www.umeng.com/page/policy",
		[]string{"device ids", "IDFA", "IP", "IMSI", "app list", "sessions"}},
	{"JIGUANG security SDK", "Shenzhen Hexunhuagu Information Technology Co., Ltd.", "fraud and bot detection",
		"at login and when trading", "https://www.jiguang.cn/license/privacy",
		[]string{"device ids", "network and location", "interaction traces", "app list"}},
	{"Alipay identity verification SDK", "Alipay (China) Network Technology Co., Ltd.", "real-name identity verification",
		"when the user verifies their identity", "https://render.alipay.com/p/c/k2cx0tg8",
		[]string{"camera", "device ids", "network ids"}},
}

// policyPublished is when the first policy version was published.
const policyPublished = "2021-08-20T00:00:00+08:00"

// The first policy version's texts: the Chinese original, which stands,
// and the English summary with the clause ids (P1.1 ...) that the class
// registry, the sharing declarations and the inventories cite.
var (
	//go:embed policy/2021-08-20.zh.txt
	PolicyText string
	//go:embed policy/2021-08-20.en.md
	PolicyTextEn string
)

// EnsureCatalog seeds the SDK inventory and the first policy version.
func EnsureCatalog(ctx context.Context, c *ent.Client) error {
	ctx = classification.AsSystem(ctx) // SECURITY: seed data is the system's own writing, not collection.
	for _, s := range SDKs {
		exists, err := c.ThirdPartySDK.Query().Where(thirdpartysdk.Name(s.Name)).Exist(ctx)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		if err := c.ThirdPartySDK.Create().
			SetName(s.Name).SetProvider(s.Provider).SetPurpose(s.Purpose).
			SetDataTypes(s.DataTypes).SetCollectionMoment(s.CollectionMoment).SetPolicyURL(s.PolicyURL).
			Exec(ctx); err != nil {
			return err
		}
	}
	exists, err := c.PolicyVersion.Query().Where(policyversion.Version(PolicyVersion)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	published, _ := time.Parse(time.RFC3339, policyPublished)
	sum := sha256.Sum256([]byte(PolicyText))
	return c.PolicyVersion.Create().
		SetVersion(PolicyVersion).
		SetPublishedAt(published).
		SetMajor(true).
		SetSummary("The privacy policy as first published.").
		SetText(PolicyText).
		SetTextEn(PolicyTextEn).
		SetChanges(ledger.Changes("", PolicyText)).
		SetContentHash(hex.EncodeToString(sum[:])).
		Exec(ctx)
}
