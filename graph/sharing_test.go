package graph_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"veil/classification"
	"veil/ent"
	"veil/ent/sharingrecord"
	"veil/seed"
	"veil/veiltest"
)

// TestTransfersAbroadNeedConsentUnlessTheTradeCrossesTheBorder follows
// orders through shipOrder (POLICY.md P3.1, P4.2): a courier abroad for
// goods shipped within the mainland needs the buyer's CROSS_BORDER
// consent, and is refused without it with nothing shared; goods shipped
// from abroad are the buyer's own cross-border trade. Every disclosure is
// in the ledger with its region.
func TestTransfersAbroadNeedConsentUnlessTheTradeCrossesTheBorder(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		seller, buyer := w.Tokens["guardian"], w.Tokens["adult"]
		records := func() []*ent.SharingRecord {
			return env.Store.Client.SharingRecord.Query().Where(sharingrecord.UserID(w.Users["adult"].ID)).
				Order(ent.Asc(sharingrecord.FieldID)).AllX(ctx)
		}
		ship := `mutation($id: ID!, $carrier: String!) { shipOrder(orderId: $id, carrier: $carrier) { status carrier } }`
		paid := veiltest.ID(w.Orders[0].ID)
		before := len(records())

		r := env.Do(veiltest.Request{Token: seller, Query: ship, Variables: map[string]any{"id": paid, "carrier": "FedEx International"}})
		if r.Code() != "CONSENT_REQUIRED" || r.Errors[0].Extensions["purpose"] != "CROSS_BORDER" {
			t.Fatalf("a courier abroad without the buyer's consent: %s", r.Raw)
		}
		if n := len(records()); n != before {
			t.Errorf("a refused transfer abroad recorded %d sharing records", n-before)
		}
		if r := env.Do(veiltest.Request{Token: seller, Query: ship, Variables: map[string]any{"id": paid, "carrier": "a courier nobody declared"}}); r.Code() != "VALIDATION_FAILED" || r.Errors[0].Extensions["field"] != "carrier" {
			t.Errorf("an undeclared courier: %s", r.Raw)
		}
		if r := env.Do(veiltest.Request{Token: buyer, Query: ship, Variables: map[string]any{"id": paid, "carrier": "SF Express"}}); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("the buyer shipping their own order: %s", r.Raw)
		}

		env.MustDo(veiltest.Request{Token: buyer, Query: `mutation { grantConsent(purpose: CROSS_BORDER) { id } }`})
		r = env.MustDo(veiltest.Request{Token: seller, Query: ship, Variables: map[string]any{"id": paid, "carrier": "FedEx International"}})
		if veiltest.Dig(r.Data, "shipOrder.status") != "SHIPPED" || veiltest.Dig(r.Data, "shipOrder.carrier") != "FedEx International" {
			t.Errorf("shipping with the buyer's consent: %s", r.Raw)
		}
		got := records()
		if len(got) != before+1 || got[len(got)-1].Region != "US" || got[len(got)-1].Recipient != "FedEx International" {
			t.Errorf("the transfer abroad is not recorded with its region: %+v", got)
		}
		if r := env.Do(veiltest.Request{Token: seller, Query: ship, Variables: map[string]any{"id": paid, "carrier": "SF Express"}}); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("shipping a shipped order again: %s", r.Raw)
		}

		// Goods from Japan, with the consent withdrawn: the seller abroad
		// and the international courier serve the buyer's own trade.
		env.MustDo(veiltest.Request{Token: buyer, Query: `mutation { withdrawConsent(purpose: CROSS_BORDER) { withdrawn } }`})
		camera := w.Listings[len(w.Listings)-1]
		if camera.ShipsFrom == string(classification.Mainland) {
			t.Fatal("the demo has no listing shipping from abroad")
		}
		r = env.MustDo(veiltest.Request{Token: buyer, Query: `mutation($l: ID!) { createOrder(input: {listingId: $l, recipientPhone: "13600136000"}) { id } }`,
			Variables: map[string]any{"l": veiltest.ID(camera.ID)}})
		id := veiltest.Dig(r.Data, "createOrder.id")
		env.MustDo(veiltest.Request{Token: buyer, Query: `mutation($id: ID!) { payOrder(orderId: $id) { status } }`, Variables: map[string]any{"id": id}})
		env.MustDo(veiltest.Request{Token: seller, Query: ship, Variables: map[string]any{"id": id, "carrier": "FedEx International"}})
		got = records()
		if len(got) != before+3 {
			t.Fatalf("the cross-border order recorded %d disclosures, want 2", len(got)-before-1)
		}
		for _, rec := range got[before+1:] {
			if rec.Region == string(classification.Mainland) || rec.LegalBasis != string(classification.BasisContract) {
				t.Errorf("a disclosure of the cross-border trade: %+v", rec)
			}
		}
		// The buyer sees their own ledger with regions.
		r = env.MustDo(veiltest.Request{Token: buyer, Query: `{ me { sharingRecords { recipient region } } }`})
		if list, _ := veiltest.Dig(r.Data, "me.sharingRecords").([]any); len(list) != len(got) {
			t.Errorf("me.sharingRecords lists %d of %d: %s", len(list), len(got), r.Raw)
		}
	})
}

// TestAnOrderShipsOnceAndNeverAfterItsBuyerLeft: concurrent shipOrder
// calls ship an order once and share its phone with one courier; an order
// whose buyer has cancelled is not shipped, and nothing is shared; the
// answer's nested fields load.
func TestAnOrderShipsOnceAndNeverAfterItsBuyerLeft(t *testing.T) {
	veiltest.EachStore(t, func(t *testing.T, env *veiltest.Env) {
		ctx := classification.AsSystem(context.Background())
		w, err := seed.Demo(ctx, env.Store.Client, env.Accounts, env.Clock)
		if err != nil {
			t.Fatal(err)
		}
		ship := `mutation($id: ID!, $carrier: String!) { shipOrder(orderId: $id, carrier: $carrier) { status listing { title } } }`
		paid := w.Orders[0]
		var wg sync.WaitGroup
		var shipped atomic.Int32
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				carrier := []string{"SF Express", "China Post EMS"}[i%2]
				r := env.Do(veiltest.Request{Token: w.Tokens["guardian"], Query: ship, Variables: map[string]any{"id": veiltest.ID(paid.ID), "carrier": carrier}})
				if len(r.Errors) == 0 {
					if veiltest.Dig(r.Data, "shipOrder.listing.title") == nil {
						t.Errorf("the shipped order's listing: %s", r.Raw)
					}
					shipped.Add(1)
				} else if r.Code() != "VALIDATION_FAILED" {
					t.Errorf("a concurrent shipping: %s", r.Raw)
				}
			}()
		}
		wg.Wait()
		couriers := env.Store.Client.SharingRecord.Query().Where(sharingrecord.OrderID(paid.ID), sharingrecord.RecipientNEQ(fmt.Sprintf("user:%d", paid.SellerID))).CountX(ctx)
		if shipped.Load() != 1 || couriers != 1 {
			t.Errorf("8 concurrent shipments: %d succeeded, %d couriers told; want 1 and 1", shipped.Load(), couriers)
		}

		// A new paid order, then its buyer leaves.
		buyer := w.Tokens["adult"]
		r := env.MustDo(veiltest.Request{Token: buyer, Query: `mutation($l: ID!) { createOrder(input: {listingId: $l, recipientPhone: "13600136000"}) { id } }`,
			Variables: map[string]any{"l": veiltest.ID(w.Listings[0].ID)}})
		id := veiltest.Dig(r.Data, "createOrder.id")
		r = env.MustDo(veiltest.Request{Token: buyer, Query: `mutation($id: ID!) { payOrder(orderId: $id) { status seller { nickname } } }`, Variables: map[string]any{"id": id}})
		if veiltest.Dig(r.Data, "payOrder.seller.nickname") == nil {
			t.Errorf("the paid order's seller: %s", r.Raw)
		}
		before := env.Store.Client.SharingRecord.Query().CountX(ctx)
		env.MustDo(veiltest.Request{Token: buyer, Query: `mutation { cancelAccount(confirm: true) { cancelled } }`})
		if r := env.Do(veiltest.Request{Token: w.Tokens["guardian"], Query: ship, Variables: map[string]any{"id": id, "carrier": "SF Express"}}); r.Code() != "VALIDATION_FAILED" {
			t.Errorf("shipping the order of a cancelled buyer: %s", r.Raw)
		}
		if n := env.Store.Client.SharingRecord.Query().CountX(ctx); n != before {
			t.Errorf("%d disclosures about a cancelled buyer", n-before)
		}
	})
}
