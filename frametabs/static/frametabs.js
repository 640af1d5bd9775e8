// frametabs: one framework choice for the whole book.
//
// sphinx-design renders each tab group as radio inputs, labels and panels; its CSS
// alone keeps every version readable without JavaScript. This script adds:
// - the reader's framework, kept in localStorage and applied on every page;
// - a link such as ?tab=tensorflow that selects (and remembers) a framework;
// - the WAI-ARIA tabs pattern: a tablist per group, the labels as focusable tabs
//   (Tab reaches the selected one; Left/Right arrows, Home and End move and select, the
//   tablist being horizontal; Enter and Space select the focused tab) and the panels as
//   tabpanels.
(() => {
  "use strict";

  const script = document.currentScript;
  const GROUP = script?.dataset.syncGroup || "framework";
  const PARAMETER = script?.dataset.queryParameter || "tab";
  const FRAMEWORKS = (script?.dataset.frameworks || "").split(/\s+/).filter(Boolean);
  const STORAGE_KEY = "frametabs-" + GROUP;
  const LIST_LABEL = "Escolha o framework";
  let generatedIds = 0;

  /** @param {HTMLElement} label */
  const inputOf = (label) => {
    const input = document.getElementById(label.htmlFor);
    return input instanceof HTMLInputElement ? input : null;
  };

  /** @param {Element} set */
  const labelsOf = (set) =>
    Array.from(set.children).filter(
      (child) => child instanceof HTMLLabelElement && child.classList.contains("sd-tab-label")
    );

  const groupLabels = () =>
    Array.from(document.querySelectorAll(".sd-tab-set > label.sd-tab-label")).filter(
      (label) => label.dataset.syncGroup === GROUP
    );

  function readStored() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (error) {
      return null; // storage blocked: the choice only lasts for this page
    }
  }

  /** @param {string} framework */
  function store(framework) {
    try {
      window.localStorage.setItem(STORAGE_KEY, framework);
    } catch (error) {
      // storage blocked: nothing to remember
    }
  }

  /** Give an element an id if it has none, and return it. @param {HTMLElement} el */
  function ensureId(el, prefix) {
    if (!el.id) el.id = `frametabs-${prefix}-${++generatedIds}`;
    return el.id;
  }

  /** Check every tab of the framework, in every group on the page. @param {string} framework */
  function applyFramework(framework) {
    for (const label of groupLabels()) {
      const input = inputOf(label);
      if (input && label.dataset.syncId === framework) input.checked = true;
    }
    refreshAll();
  }

  /** Mirror the checked radio into ARIA state and the roving tabindex. */
  function refreshAll() {
    for (const set of document.querySelectorAll(".sd-tab-set")) {
      for (const label of labelsOf(set)) {
        const selected = Boolean(inputOf(label)?.checked);
        label.setAttribute("aria-selected", String(selected));
        label.tabIndex = selected ? 0 : -1;
      }
    }
  }

  /** Select a tab as a click would: sphinx-design and we both hear the change. */
  function select(label) {
    const input = inputOf(label);
    if (!input || input.checked) return;
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  /** @param {KeyboardEvent} event */
  function onKeydown(event) {
    const label = event.currentTarget;
    if (!(label instanceof HTMLLabelElement) || !label.parentElement) return;
    const labels = labelsOf(label.parentElement);
    const here = labels.indexOf(label);
    // A horizontal tablist: Left/Right move (Up/Down are left to the page's scrolling).
    const moves = {
      ArrowRight: here + 1,
      ArrowLeft: here - 1,
      Home: 0,
      End: labels.length - 1,
    };
    let target = null;
    if (event.key in moves) {
      target = labels[(moves[event.key] + labels.length) % labels.length];
    } else if (event.key === "Enter" || event.key === " ") {
      target = label;
    } else {
      return;
    }
    event.preventDefault();
    select(target);
    target.focus();
  }

  /** Turn one sphinx-design tab set into an ARIA tablist. @param {Element} set */
  function enhance(set) {
    const labels = labelsOf(set);
    if (!labels.length) return;
    // The panels sit between the labels, so the tablist owns the labels by reference.
    const list = document.createElement("div");
    list.className = "frametabs-tablist";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-orientation", "horizontal");
    const isFramework = labels.some((label) => label.dataset.syncGroup === GROUP);
    list.setAttribute("aria-label", isFramework ? LIST_LABEL : "Abas");
    list.setAttribute("aria-owns", labels.map((label) => ensureId(label, "tab")).join(" "));
    set.prepend(list);
    for (const label of labels) {
      label.setAttribute("role", "tab");
      label.addEventListener("keydown", onKeydown);
      const panel = label.nextElementSibling;
      if (panel instanceof HTMLElement && panel.classList.contains("sd-tab-content")) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", label.id);
        label.setAttribute("aria-controls", ensureId(panel, "panel"));
      }
      const input = inputOf(label);
      if (input) {
        // The radio stays for the CSS; the focusable, announced control is the label.
        input.tabIndex = -1;
        input.setAttribute("aria-hidden", "true");
        input.addEventListener("focus", () => label.focus());
      }
    }
  }

  /** The framework asked for by ?tab=..., if it is one the book knows. */
  function fromQuery() {
    const asked = new URLSearchParams(window.location.search).get(PARAMETER);
    const framework = asked ? asked.trim().toLowerCase() : null;
    return framework && FRAMEWORKS.includes(framework) ? framework : null;
  }

  /** @param {Event} event */
  function onChange(event) {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.checked) return;
    const label = input.nextElementSibling;
    if (label instanceof HTMLLabelElement && label.dataset.syncGroup === GROUP) {
      store(label.dataset.syncId);
      applyFramework(label.dataset.syncId);
    } else {
      refreshAll();
    }
  }

  function ready() {
    document.querySelectorAll(".sd-tab-set").forEach(enhance);
    document.addEventListener("change", onChange);
    const asked = fromQuery();
    if (asked) store(asked);
    const chosen = asked || readStored();
    if (chosen && (FRAMEWORKS.length === 0 || FRAMEWORKS.includes(chosen))) {
      applyFramework(chosen);
    } else {
      refreshAll();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
