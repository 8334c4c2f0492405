package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
)

// AXTree reads the accessibility tree of the page in tab, as chromium
// exposes it to screen readers (CDP Accessibility.getFullAXTree), and
// returns it in the text form of [FormatAXTree].
func AXTree(tab context.Context) (string, error) {
	res, err := chromedp.Call(tab, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		return "", fmt.Errorf("browsertest: reading the accessibility tree: %w", err)
	}
	return FormatAXTree(res.Nodes), nil
}

// silentRoles are wrappers a screen reader does not announce: their
// children are shown in their place, one level up. InlineTextBox and
// LineBreak are pieces of a text already shown by its StaticText.
var silentRoles = map[string]bool{
	"generic": true, "none": true, "presentation": true, "InlineTextBox": true, "LineBreak": true,
}

// FormatAXTree writes the tree one line per node a screen reader meets,
// indented two spaces a level:
//
//	role "name" states description="…" value="…"
//
// Ignored nodes and the silent wrappers (generic, none, presentation) are
// left out and their children move up. A StaticText is left out when its
// words are already in the name or the value of the node shown above it
// (a link's or a heading's own text, a field's content), so each sentence
// is read once. Names are trimmed
// and their spaces (no-break ones included) collapsed, so the file shows
// words and not layout. The states shown are those that change what is
// announced: focusable, focused, checked (or not checked), pressed,
// expanded (or collapsed), selected, disabled, readonly, required,
// invalid, modal, a heading's level and the live region's politeness.
// The description is what aria-describedby (or a title) adds; the value
// is a field's content or a list's choice.
func FormatAXTree(nodes []*accessibility.Node) string {
	byID := make(map[accessibility.NodeID]*accessibility.Node, len(nodes))
	for _, n := range nodes {
		byID[n.NodeID] = n
	}
	var b strings.Builder
	var walk func(n *accessibility.Node, depth int, above string)
	walk = func(n *accessibility.Node, depth int, above string) {
		role, name := axString(n.Role), collapse(axString(n.Name))
		shown := !n.Ignored && !silentRoles[role]
		if shown && role == "StaticText" && (name == "" || strings.Contains(above, name)) {
			shown = false
		}
		if shown {
			b.WriteString(strings.Repeat("  ", depth))
			b.WriteString(role)
			if name != "" {
				b.WriteString(" " + quote(name))
			}
			for _, s := range axStates(n) {
				b.WriteString(" " + s)
			}
			if d := collapse(axString(n.Description)); d != "" {
				b.WriteString(" description=" + quote(d))
			}
			v := collapse(axString(n.Value))
			if v != "" {
				b.WriteString(" value=" + quote(v))
			}
			b.WriteString("\n")
			depth++
			above = name + "\n" + v
		}
		for _, id := range n.ChildIDs {
			if c, ok := byID[id]; ok {
				walk(c, depth, above)
			}
		}
	}
	for _, n := range nodes {
		if n.ParentID == "" {
			walk(n, 0, "")
		}
	}
	return b.String()
}

// axStates are the node's announced states, in a fixed order.
func axStates(n *accessibility.Node) []string {
	props := map[accessibility.PropertyName]any{}
	for _, p := range n.Properties {
		if p.Value != nil {
			props[p.Name] = axValue(p.Value)
		}
	}
	var out []string
	flag := func(name accessibility.PropertyName) {
		if v, ok := props[name].(bool); ok && v {
			out = append(out, string(name))
		}
	}
	flag(accessibility.PropertyNameFocusable)
	flag(accessibility.PropertyNameFocused)
	// A tri-state property: "checked", "checked=mixed" or "not-checked".
	triState := func(name accessibility.PropertyName, word string) {
		if v, ok := props[name]; ok {
			switch fmt.Sprint(v) {
			case "true":
				out = append(out, word)
			case "mixed":
				out = append(out, word+"=mixed")
			default:
				out = append(out, "not-"+word)
			}
		}
	}
	triState(accessibility.PropertyNameChecked, "checked")
	triState(accessibility.PropertyNamePressed, "pressed")
	if v, ok := props[accessibility.PropertyNameExpanded].(bool); ok {
		if v {
			out = append(out, "expanded")
		} else {
			out = append(out, "collapsed")
		}
	}
	flag(accessibility.PropertyNameSelected)
	flag(accessibility.PropertyNameDisabled)
	flag(accessibility.PropertyNameReadonly)
	flag(accessibility.PropertyNameRequired)
	if v, ok := props[accessibility.PropertyNameInvalid]; ok {
		if s := fmt.Sprint(v); s != "false" && s != "" {
			if s == "true" {
				out = append(out, "invalid")
			} else {
				out = append(out, "invalid="+s)
			}
		}
	}
	flag(accessibility.PropertyNameModal)
	if v, ok := props[accessibility.PropertyNameLevel].(float64); ok && axString(n.Role) == "heading" {
		out = append(out, fmt.Sprintf("level=%d", int(v)))
	}
	if v, ok := props[accessibility.PropertyNameLive].(string); ok && v != "" && v != "off" {
		out = append(out, "live="+v)
	}
	return out
}

// axValue decodes a value's JSON (a string, a number, a boolean or a
// token); nil when there is none.
func axValue(v *accessibility.Value) any {
	if v == nil || len(v.Value) == 0 {
		return nil
	}
	var out any
	if err := json.Unmarshal(v.Value, &out); err != nil {
		return nil
	}
	return out
}

// axString is a value as text: "" when absent.
func axString(v *accessibility.Value) string {
	switch x := axValue(v).(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// collapse trims s and turns each run of spaces (no-break spaces and line
// ends included) into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// quote puts s between double quotes, escaping the quotes and backslashes
// in it; other characters are kept as they are read.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
