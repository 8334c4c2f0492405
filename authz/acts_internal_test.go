package authz

import "testing"

func TestAnActIsReportedOnlyWithinTheTokensAuthorizationDetails(t *testing.T) {
	consultSocial := []AuthorizationDetail{{Type: "public_service_act", Actions: []string{"consult"}, ProcedureAreas: []string{"social"}}}
	manageAnywhere := []AuthorizationDetail{{Type: "public_service_act", Actions: []string{"manage"}}}
	tests := []struct {
		name         string
		details      []AuthorizationDetail
		action, area string
		want         bool
	}{
		{"a token without details: its representation decides", nil, "dispose", "argent", true},
		{"the act and area granted", consultSocial, "consult", "social", true},
		{"another action than granted", consultSocial, "dispose", "social", false},
		{"another area than granted", consultSocial, "consult", "argent", false},
		{"a detail of every area", manageAnywhere, "manage", "logement", true},
		{"a detail of every area, another action", manageAnywhere, "dispose", "logement", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detailsCover(tt.details, tt.action, tt.area); got != tt.want {
				t.Errorf("detailsCover = %v, want %v", got, tt.want)
			}
		})
	}
}
