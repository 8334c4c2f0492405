package authz_test

import (
	"encoding/base64"
	"errors"

	"golang.org/x/oauth2"
)

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func asRetrieve(err error, target **oauth2.RetrieveError) bool { return errors.As(err, target) }
