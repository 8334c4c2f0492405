package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/language"
)

// ui_locales (OIDC Core §3.1.2.1): a site names the languages its person
// reads, in order, and the pages of that sign-in (login, second factor,
// for whom, consent) follow the first Relais has. The site's choice counts
// for those pages only: it outranks the language switch's cookie, which a
// shared computer (a France Services desk) keeps from the last person, and
// it never changes the cookie. The switch still works on those pages: it
// rewrites the request's ui_locales along with the cookie (flowSwitch).

type uiLocalesKey struct{}

// withUILocales gives the pages /authorize renders the request's
// ui_locales, a pushed request's (RFC 9126) included.
func withUILocales(r *http.Request, locales string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), uiLocalesKey{}, locales))
}

// flowLang is the language the site asked for the page's sign-in: "" when
// the page is not part of one, or the site asked for no language Relais
// has. A page is part of a sign-in when it is /authorize, or carries the
// authorization request to return to (return on login and second-factor
// pages, request on the consent and for-whom forms).
func flowLang(r *http.Request) string {
	if v, ok := r.Context().Value(uiLocalesKey{}).(string); ok {
		return firstSupported(v)
	}
	q := r.URL.Query()
	if r.URL.Path == "/authorize" {
		return firstSupported(q.Get("ui_locales"))
	}
	ret := q.Get("return")
	if ret == "" && r.PostForm != nil { // only a body a handler has already read
		ret = r.PostForm.Get("return")
		if req := r.PostForm.Get("request"); ret == "" && req != "" {
			ret = "/authorize?" + req
		}
	}
	return firstSupported(authorizeLocales(ret))
}

// authorizeLocales is the ui_locales of an authorization request's path.
func authorizeLocales(ret string) string {
	u, err := url.Parse(ret)
	if err != nil || u.Path != "/authorize" {
		return ""
	}
	return u.Query().Get("ui_locales")
}

// firstSupported is the first language of a ui_locales list (BCP 47 tags
// separated by spaces) that Relais has, by its base: en-GB is en.
func firstSupported(list string) string {
	for _, f := range strings.Fields(list) {
		tag, err := language.Parse(f)
		if err != nil {
			continue
		}
		if base, conf := tag.Base(); conf != language.No {
			switch b := base.String(); b {
			case "fr", "en":
				return b
			}
		}
	}
	return ""
}

// flowSwitch is where the language switch returns to: next, with the
// ui_locales of its sign-in, if any, set to lang, so the page shows the
// language chosen instead of the site's.
func flowSwitch(next, lang string) string {
	u, err := url.Parse(next)
	if err != nil {
		return next
	}
	q := u.Query()
	switch {
	case u.Path == "/authorize" && q.Has("ui_locales"):
		q.Set("ui_locales", lang)
	case authorizeLocales(q.Get("return")) != "":
		q.Set("return", flowSwitch(q.Get("return"), lang))
	default:
		return next
	}
	u.RawQuery = q.Encode()
	return u.String()
}
