package browsertest

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
)

func axNode(id, parent, role, name string, children []string, props map[accessibility.PropertyName]any) *accessibility.Node {
	val := func(v any) *accessibility.Value {
		raw, _ := json.Marshal(v)
		return &accessibility.Value{Type: accessibility.ValueTypeString, Value: raw}
	}
	n := &accessibility.Node{NodeID: accessibility.NodeID(id), ParentID: accessibility.NodeID(parent), Role: val(role)}
	if name != "" {
		n.Name = val(name)
	}
	for _, c := range children {
		n.ChildIDs = append(n.ChildIDs, accessibility.NodeID(c))
	}
	for k, v := range props {
		n.Properties = append(n.Properties, &accessibility.Property{Name: k, Value: val(v)})
	}
	return n
}

func TestFormatAXTreeReadsLikeAScreenReader(t *testing.T) {
	ignored := axNode("3", "2", "none", "", []string{"4"}, nil)
	ignored.Ignored = true
	nodes := []*accessibility.Node{
		axNode("1", "", "RootWebArea", "Mon  journal – Relais", []string{"2"}, map[accessibility.PropertyName]any{"focusable": true, "focused": true}),
		axNode("2", "1", "generic", "", []string{"3", "6", "8", "10"}, nil),
		ignored,
		axNode("4", "3", "heading", "Mon\u00a0journal", []string{"5"}, map[accessibility.PropertyName]any{"level": 1}),
		axNode("5", "4", "StaticText", "Mon journal", nil, nil),
		axNode("6", "2", "paragraph", "", []string{"7", "11"}, nil),
		axNode("7", "6", "StaticText", "Relais, c’est « simple ».", nil, nil),
		axNode("11", "6", "StaticText", " ", nil, nil),
		axNode("8", "2", "checkbox", "Tout voir", []string{"9"}, map[accessibility.PropertyName]any{"focusable": true, "checked": "false", "invalid": "false", "required": false}),
		axNode("9", "8", "StaticText", "Tout voir", nil, nil),
		axNode("10", "2", "textbox", "Adresse \"e-mail\"", []string{"12"}, map[accessibility.PropertyName]any{"focusable": true, "required": true, "invalid": "true"}),
		axNode("12", "10", "StaticText", "nom@exemple", nil, nil),
	}
	nodes[10].Value = &accessibility.Value{Type: accessibility.ValueTypeString, Value: []byte(`"nom@exemple"`)}
	nodes[10].Description = &accessibility.Value{Type: accessibility.ValueTypeString, Value: []byte(`"Par exemple : nom@exemple.fr"`)}
	want := `RootWebArea "Mon journal – Relais" focusable focused
  heading "Mon journal" level=1
  paragraph
    StaticText "Relais, c’est « simple »."
  checkbox "Tout voir" focusable not-checked
  textbox "Adresse \"e-mail\"" focusable required invalid description="Par exemple : nom@exemple.fr" value="nom@exemple"
`
	if got := FormatAXTree(nodes); got != want {
		t.Errorf("got:\n%s\nwant:\n%s\ndiff:\n%s", got, want, UnifiedDiff("want", "got", want, got))
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal texts have no diff", "a\nb\n", "a\nb\n", ""},
		{"a changed line shows with its context", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"an added line at the end", "1\n2\n", "1\n2\n3\n", "--- a\n+++ b\n@@ -1,2 +1,3 @@\n 1\n 2\n+3\n"},
		{"a file from nothing", "", "x\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"},
		{"changes far apart make two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnifiedDiff("a", "b", tt.a, tt.b); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
