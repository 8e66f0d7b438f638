package rights

import (
	"context"
	"fmt"

	"veil/ent"
	"veil/ent/activitylog"
	"veil/ent/calllogentry"
	"veil/ent/contact"
	"veil/ent/device"
	"veil/ent/faceverification"
	"veil/ent/location"
	"veil/ent/order"
	"veil/ent/predicate"
	"veil/ent/realnameverification"
	"veil/ent/supportticket"
	"veil/ent/thirdpartybinding"
)

// deleteOwned deletes every record of typ about subjectID.
func deleteOwned(ctx context.Context, tx *ent.Tx, typ string, subjectID int) (int, error) {
	switch typ {
	case "Contact":
		return tx.Contact.Delete().Where(contact.UserID(subjectID)).Exec(ctx)
	case "CallLogEntry":
		return tx.CallLogEntry.Delete().Where(calllogentry.UserID(subjectID)).Exec(ctx)
	case "ActivityLog":
		return tx.ActivityLog.Delete().Where(activitylog.UserID(subjectID)).Exec(ctx)
	case "Location":
		return tx.Location.Delete().Where(location.UserID(subjectID)).Exec(ctx)
	case "Device":
		return tx.Device.Delete().Where(device.UserID(subjectID)).Exec(ctx)
	case "ThirdPartyBinding":
		return tx.ThirdPartyBinding.Delete().Where(thirdpartybinding.UserID(subjectID)).Exec(ctx)
	case "FaceVerification":
		return tx.FaceVerification.Delete().Where(faceverification.UserID(subjectID)).Exec(ctx)
	case "SupportTicket":
		return tx.SupportTicket.Delete().Where(supportticket.UserID(subjectID)).Exec(ctx)
	case "RealNameVerification":
		return tx.RealNameVerification.Delete().Where(realnameverification.UserID(subjectID)).Exec(ctx)
	}
	return 0, fmt.Errorf("rights: no deletion rule for %s", typ)
}

// Retained says, for each type about a user that cancellation does not
// erase, why it is kept.
var Retained = map[string]string{
	"Order":         "transaction record kept 3 years after completion (E-commerce Law art. 31), under legal hold",
	"SharingRecord": "record of a lawful disclosure that goes with a retained order",
	"Consent":       "proof of the consent under which past processing was lawful (PIPL Art. 15)",
	"RightsRequest": "record of how the subject's requests were answered (POLICY.md P9)",
	"Session":       "revoked at cancellation; holds only a token hash and times",
}

func orderOf(subjectID int) predicate.Order { return order.BuyerID(subjectID) }
