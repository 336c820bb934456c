// Small helpers shared by the bundles: translated strings rendered by the server into a
// <script type="application/json">, with {name} placeholders filled in here.

export function readJSON(id, fallback = {}) {
  const element = document.getElementById(id);
  if (!element) return fallback;
  try {
    return JSON.parse(element.textContent);
  } catch (error) {
    return fallback;
  }
}

export function format(template, values = {}) {
  return String(template || "").replace(/\{(\w+)\}/g, (match, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match,
  );
}

// "zh" or "en", from <html lang="zh-Hans">.
export function pageLang() {
  return (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}
