// Package browsertest checks Relais pages the way people meet them: in a real
// browser, at a phone width and a desktop width, with the keyboard, and
// through the axe-core accessibility engine.
//
// A test serves its handler with [Start] and lists its pages for
// [Harness.Check]:
//
//	func TestPages(t *testing.T) {
//		h := browsertest.Start(t, newServer())
//		h.Check(t,
//			browsertest.Page{Name: "home", Path: "/", Lang: "fr"},
//			browsertest.Page{Name: "missing", Path: "/nope", Lang: "en", WantStatus: 404},
//		)
//	}
//
// Check fails the test on any WCAG 2.1 A/AA violation that axe-core finds, a
// wrong HTTP status or <html lang>, sideways scrolling at 320 px (WCAG 1.4.10
// Reflow), a visible control that the Tab key never reaches (2.1.1 Keyboard),
// or a control that shows no focus indicator once reached (2.4.7 Focus
// Visible). [Harness.Audit] returns the same findings without judging them,
// for tests that expect a page to be wrong.
//
// The keyboard rule is deliberately simple so that pages stay simple: the
// focused control itself must draw an outline or change its box-shadow, and
// must be on screen and not covered. A skip link hidden until focused passes;
// one that stays hidden does not.
//
// Each run saves a full-page PNG of every audited page, so that a person can
// look at what the test saw: see [Report.Screenshot].
//
// What axe-core cannot judge, what a screen reader says, is kept for review:
// [AXTree] reads chromium's accessibility tree of a page as text, one line
// per node a screen reader meets ([FormatAXTree]), and [Golden] compares it
// with a file kept in the repository, failing with a unified diff
// ([UnifiedDiff]) until the file is regenerated (docs/accessibility.md).
//
// The harness needs Debian's chromium (or RELAIS_CHROMIUM) and npm, which
// installs the pinned axe-core from axe/package-lock.json on first use. When
// either is missing the test is skipped on a developer's machine and fails
// when the environment variable CI is set, so that CI cannot pass by testing
// nothing.
package browsertest
