// frametabs: Brazilian Portuguese for sphinx-copybutton, which ships no Portuguese.
//
// copybutton.js keeps its texts in the global `messages`, picks `locale` from <html lang>
// when it loads (falling back to English) and builds its icons then; its buttons only
// appear on DOMContentLoaded. Loaded right after it, this script adds the page's language
// to `messages`, selects it and renames the icons' titles before any button exists.
/* global messages:writable, locale:writable, iconCheck:writable, iconCopy:writable */
(() => {
  "use strict";

  const TEXTS = {
    copy: "Copiar",
    copy_to_clipboard: "Copiar para a área de transferência",
    copy_success: "Copiado!",
    copy_failure: "Não foi possível copiar",
  };
  const lang = document.documentElement.lang;
  if (typeof messages !== "object" || typeof locale !== "string") return; // no copybutton.js
  if (!/^pt(-|$)/i.test(lang) || locale === lang) return;

  const before = messages[locale] || {};
  /** Replace an icon's <title> text. @param {string} icon @param {string} key */
  const retitle = (icon, key) =>
    typeof icon === "string" && before[key]
      ? icon.replace(`<title>${before[key]}</title>`, `<title>${TEXTS[key]}</title>`)
      : icon;

  messages[lang] = TEXTS;
  if (typeof iconCheck === "string") iconCheck = retitle(iconCheck, "copy_success");
  if (typeof iconCopy === "string") iconCopy = retitle(iconCopy, "copy_to_clipboard");
  locale = lang;
})();
