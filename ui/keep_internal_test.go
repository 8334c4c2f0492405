package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Over https a kept form's cookie carries the __Host- prefix: the browser
// then takes it only from Relais's own origin, Secure, for the whole site
// and no domain, so a neighbouring subdomain cannot plant a form in
// someone's page (found by the fresh-eyes review). Over http (a developer's
// machine) the prefix would be refused by browsers, so it is left out.
func TestAKeptFormsCookieIsHostOnlyOverHTTPS(t *testing.T) {
	for _, secure := range []bool{true, false} {
		name := keptCookie("/espace/procuration/nouvelle", secure)
		if got := strings.HasPrefix(name, "__Host-"); got != secure {
			t.Errorf("secure %v: cookie %q, want the __Host- prefix %v", secure, name, secure)
		}
		if keptCookie("/espace/procuration/nouvelle", secure) != name || keptCookie("/login", secure) == name {
			t.Errorf("secure %v: one cookie per page, the same each time", secure)
		}
		w := httptest.NewRecorder()
		k := keeping{secure: secure}
		k.setKept(w, "/login", "sealed")
		c := w.Result().Cookies()
		if len(c) != 1 || c[0].Name != keptCookie("/login", secure) || c[0].Secure != secure || c[0].Path != "/" || c[0].Domain != "" || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode {
			t.Errorf("secure %v: cookie set %+v", secure, c)
		}
	}
}
