// WAI-ARIA tabs (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/) with automatic
// activation: the arrow keys move to the previous/next tab and show it (wrapping round),
// Home/End go to the first/last; only the selected tab is in the Tab order (roving
// tabindex), so Tab moves on into its panel. Panels are switched with `hidden`.

/**
 * tablist: the [role=tablist] element; its [role=tab] children name their panel in
 * aria-controls. onSelect(tab) runs after every change of tab (and for the first one).
 * Returns select(tab), to choose a tab from code without moving the focus.
 */
export function setUpTabs(tablist, onSelect) {
  const tabs = [...tablist.querySelectorAll('[role="tab"]')];
  const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));

  function select(tab, { focus = false } = {}) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      panelOf(other).hidden = !selected;
    }
    if (focus) tab.focus();
    onSelect(tab);
  }

  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab && tab.getAttribute("aria-selected") !== "true") select(tab, { focus: true });
  });

  tablist.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(event.target);
    if (index < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: tabs.length - 1,
    }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    select(tabs[(target + tabs.length) % tabs.length], { focus: true });
  });

  return (tab) => select(tab);
}
