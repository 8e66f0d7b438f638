package check

import (
	"regexp"
	"strings"

	"github.com/go-playground/validator/v10"
)

var (
	validate     = validator.New(validator.WithRequiredStructEnabled())
	mainlandCell = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

func init() {
	if err := validate.RegisterValidation("cnmobile", func(fl validator.FieldLevel) bool {
		return mainlandCell.MatchString(fl.Field().String())
	}); err != nil {
		panic(err)
	}
}

// NormalizePhone returns the 11-digit form of a mainland China mobile
// number, accepting an optional +86 or 86 prefix and spaces or dashes
// between digit groups. ok is false for anything else.
func NormalizePhone(s string) (phone string, ok bool) {
	s = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
	if strings.HasPrefix(s, "+86") {
		s = s[3:]
	} else if len(s) == 13 && strings.HasPrefix(s, "86") {
		s = s[2:]
	}
	if validate.Var(s, "required,cnmobile") != nil {
		return "", false
	}
	return s, true
}
