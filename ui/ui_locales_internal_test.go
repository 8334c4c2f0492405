package ui

import "testing"

func TestFirstSupportedIsTheFirstLanguageRelaisHas(t *testing.T) {
	tests := []struct {
		name, list, want string
	}{
		{"the first of the list when Relais has it", "en fr", "en"},
		{"a regional tag counts as its language", "en-GB", "en"},
		{"languages Relais lacks are skipped", "de it fr-CA en", "fr"},
		{"none Relais has gives none", "de it", ""},
		{"malformed tags are skipped", "!!! en", "en"},
		{"an empty list gives none", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstSupported(tt.list); got != tt.want {
				t.Errorf("firstSupported(%q) = %q, want %q", tt.list, got, tt.want)
			}
		})
	}
}

func TestFlowSwitchRewritesOnlyTheSignInsUILocales(t *testing.T) {
	tests := []struct {
		name, next, lang, want string
	}{
		{"an authorization request's ui_locales", "/authorize?client_id=caf&ui_locales=en", "fr", "/authorize?client_id=caf&ui_locales=fr"},
		{"the ui_locales of the request a login page returns to", "/login?return=%2Fauthorize%3Fui_locales%3Den", "fr",
			"/login?return=%2Fauthorize%3Fui_locales%3Dfr"},
		{"a request without ui_locales is left alone", "/authorize?client_id=caf", "fr", "/authorize?client_id=caf"},
		{"another page is left alone", "/espace?ui_locales=en", "fr", "/espace?ui_locales=en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flowSwitch(tt.next, tt.lang); got != tt.want {
				t.Errorf("flowSwitch(%q, %q) = %q, want %q", tt.next, tt.lang, got, tt.want)
			}
		})
	}
}
