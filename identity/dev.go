package identity

import "context"

// DevVerifier stands in for the official identity service in development:
// it accepts every well-formed number (format and check digit were
// validated before it is asked) except those whose sequence is 999, which
// it rejects so that the rejection path can be tried.
type DevVerifier struct{}

// Name implements Verifier.
func (DevVerifier) Name() string { return "development" }

// Verify implements Verifier.
func (DevVerifier) Verify(_ context.Context, _, idNumber string) (bool, error) {
	return len(idNumber) != 18 || idNumber[14:17] != "999", nil
}

// DevFace stands in for the face verification provider in development: it
// passes every image and keeps none.
type DevFace struct{}

// Name implements FaceProvider.
func (DevFace) Name() string { return "development" }

// Verify implements FaceProvider.
func (DevFace) Verify(context.Context, int, []byte) (bool, error) { return true, nil }
