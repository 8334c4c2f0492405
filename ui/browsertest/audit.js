// Helpers that audit.go installs in the page under test. They run through the
// DevTools protocol, so the page's Content-Security-Policy does not block
// them, and they add nothing to the page but data attributes and, for the
// keyboard walk, one empty span.
window.__relaisBrowsertest = (() => {
  const ID = 'data-browsertest-id';
  // Box-shadow of each control before it has focus: a shadow that is there
  // all the time is decoration, not a focus indicator.
  const restingShadow = new WeakMap();

  const describe = (el) => {
    let s = el.localName;
    if (el.id) s += '#' + el.id;
    for (const a of ['name', 'type', 'href']) {
      if (el.hasAttribute(a)) s += `[${a}="${el.getAttribute(a)}"]`;
    }
    const text = (el.getAttribute('aria-label') || el.textContent || el.labels?.[0]?.textContent || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };

  const alpha = (color) => {
    if (color === 'transparent') return 0;
    const m = /^rgba\(.*,\s*([\d.]+)\)$/.exec(color);
    return m ? parseFloat(m[1]) : 1;
  };

  // On screen and not covered: a skip link that stays clipped, a control
  // pushed off-screen or hidden under a sticky header all fail.
  const seen = (el, cs) => {
    if (parseFloat(cs.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false;
    const left = Math.max(r.left, 0), right = Math.min(r.right, window.innerWidth);
    const top = Math.max(r.top, 0), bottom = Math.min(r.bottom, window.innerHeight);
    if (right <= left || bottom <= top) return false;
    const hit = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
    return hit !== null && (hit === el || el.contains(hit));
  };

  return {
    overflow() {
      return document.documentElement.scrollWidth > window.innerWidth;
    },

    // Every control a keyboard user should be able to reach, tagged with an
    // id. The radios of a group share one id: Tab stops once per group.
    controls() {
      document.activeElement?.blur?.();
      const sel = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]';
      const groups = new Map(); // form (or null) -> radio name -> id
      const list = [];
      for (const el of document.querySelectorAll(sel)) {
        if (el.tabIndex < 0 || el.matches(':disabled') || el.closest('[inert]')) continue;
        if (!el.checkVisibility({ visibilityProperty: true })) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        restingShadow.set(el, getComputedStyle(el).boxShadow);
        let id = String(list.length);
        if (el.type === 'radio' && el.name) {
          if (!groups.has(el.form)) groups.set(el.form, new Map());
          const names = groups.get(el.form);
          if (names.has(el.name)) {
            el.setAttribute(ID, names.get(el.name));
            continue;
          }
          names.set(el.name, id);
        }
        el.setAttribute(ID, id);
        list.push({ id, desc: describe(el) });
      }
      return list;
    },

    // Puts the sequential focus navigation starting point at the top of the
    // page, whatever axe or the page did with focus before.
    startFromTop() {
      const start = document.createElement('span');
      start.tabIndex = -1;
      document.body.prepend(start);
      start.focus();
      window.scrollTo(0, 0);
    },

    focused() {
      const el = document.activeElement;
      const id = el?.getAttribute?.(ID);
      if (!id) return { id: '' };
      const cs = getComputedStyle(el);
      const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 && alpha(cs.outlineColor) > 0;
      const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== restingShadow.get(el);
      return { id, desc: describe(el), indicator: outline || shadow, seen: seen(el, cs) };
    },
  };
})();
