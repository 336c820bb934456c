// The code editor of a question page: progressive enhancement of the plain form in
// templates/submissions/_editor.html. Without this script the form still posts its
// <textarea name="files-<role>"> fields and the server redirects to the result page.
//
// With it: one tab per role (ARIA tablist), a CodeMirror editor per file (Python, line
// numbers), drafts kept in localStorage, "Reset to starter", Ctrl/Cmd+Enter to submit, and a
// fetch() submit (JSON + X-CSRFToken) that shows refusals (413, 422, 429 ...) inline.

import { EditorView } from "codemirror";
import {
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  dropCursor,
} from "@codemirror/view";
import { EditorState, Prec } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { format, readJSON } from "./strings.js";

// The page's Content-Security-Policy refuses inline <style> elements but those carrying
// this response's nonce; CodeMirror injects its styles as one, so it gets the nonce the
// server put on this script's own tag (read now: currentScript is gone later).
const CSP_NONCE = (document.currentScript && document.currentScript.nonce) || "";

const SAVE_DELAY_MS = 300;

// Drafts are kept per signed-in user: on a shared browser nobody restores another's code.
export function draftKey(user, slug, role) {
  return `loopback:draft:${user}:${slug}:${role}`;
}

// localStorage may be missing or refuse writes (private windows, full quota): drafts are a
// convenience, never a reason to fail.
const storage = {
  get(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  },
  set(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      /* ignore */
    }
  },
  remove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (error) {
      /* ignore */
    }
  },
};

const theme = EditorView.theme({
  "&": { fontSize: "0.9rem", backgroundColor: "#fff" },
  ".cm-scroller": {
    fontFamily: "var(--font-mono)",
    lineHeight: "1.55",
    minHeight: "16rem",
    maxHeight: "34rem",
  },
  ".cm-content": { paddingBlock: "0.6rem" },
  ".cm-gutters": { backgroundColor: "#f1f3f6", color: "#556070", borderRight: "1px solid #d9dee5" },
  ".cm-activeLineGutter": { backgroundColor: "#e2e7ee", color: "#1d2430" },
  ".cm-activeLine": { backgroundColor: "#f4f7fc" },
  "&.cm-focused": { outline: "none" },
});

function extensions({ label, onChange, onSubmit }) {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (onSubmit(), true) }])),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      indentWithTab, // Esc then Tab leaves the editor (CodeMirror's tab-focus mode)
    ]),
    python(),
    theme,
    EditorView.cspNonce.of(CSP_NONCE),
    EditorView.contentAttributes.of({
      "aria-labelledby": label.id,
      "aria-describedby": "editor-help",
      autocapitalize: "off",
      autocorrect: "off",
      spellcheck: "false",
    }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    }),
  ];
}

function setUpTabs(form, editors) {
  const tablist = form.querySelector('[role="tablist"]');
  if (!tablist) return;
  const tabs = Array.from(tablist.querySelectorAll('[role="tab"]'));
  if (tabs.length < 2) return; // one file: no tabs, the panel stays as it is
  const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));
  tablist.hidden = false;
  for (const tab of tabs) {
    const panel = panelOf(tab);
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
  }

  // ``reveal``: bring the tab into view (in a strip scrolled sideways on a phone); not as
  // the page loads, which would scroll the page away from its top.
  function select(tab, focus, reveal = true) {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", on ? "true" : "false");
      other.tabIndex = on ? 0 : -1;
      panelOf(other).hidden = !on;
    }
    if (focus) tab.focus();
    if (reveal && tab.scrollIntoView) tab.scrollIntoView({ block: "nearest", inline: "nearest" });
    const editor = editors.get(panelOf(tab).dataset.role);
    if (editor) editor.view.requestMeasure();
  }

  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        select(next, true);
      }
    });
  });
  select(tabs.find((tab) => tab.getAttribute("aria-selected") === "true") || tabs[0], false, false);
  return (role) => {
    const tab = tabs.find((candidate) => panelOf(candidate).dataset.role === role);
    if (tab) select(tab, false);
  };
}

function setUp(form) {
  const slug = form.dataset.slug;
  const user = form.dataset.user || "anonymous";
  const fromSubmission = form.dataset.source === "submission";
  const strings = readJSON("editor-strings");
  const starter = readJSON("editor-starter");
  const status = form.querySelector("#editor-status");
  const errors = form.querySelector("#editor-errors");
  const button = form.querySelector("#editor-submit");
  const token = (form.querySelector('input[name="csrf_token"]') || {}).value || "";
  const editors = new Map();
  const timers = new Map();
  let busy = false;
  let retryTimer = null;
  let restored = false;

  form.classList.add("editor-enhanced");
  form.querySelectorAll(".js-only").forEach((element) => {
    element.hidden = false;
  });

  const announce = (text) => {
    status.textContent = text || "";
  };

  function saveDraft(role, code) {
    const key = draftKey(user, slug, role);
    if (code === (starter[role] || "")) storage.remove(key);
    else storage.set(key, code);
  }

  function flushDrafts() {
    for (const [role, timer] of timers) {
      clearTimeout(timer);
      saveDraft(role, editors.get(role).view.state.doc.toString());
    }
    timers.clear();
  }

  for (const panel of form.querySelectorAll(".editor-panel")) {
    const role = panel.dataset.role;
    const textarea = panel.querySelector("textarea");
    const label = panel.querySelector("label");
    let doc = textarea.value;
    if (!fromSubmission) {
      const draft = storage.get(draftKey(user, slug, role));
      if (draft !== null && draft !== doc) {
        doc = draft;
        restored = true;
      }
    }
    textarea.value = doc;
    const host = document.createElement("div");
    host.className = "code-editor";
    textarea.insertAdjacentElement("afterend", host);
    textarea.hidden = true; // still part of the form; kept in sync below
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc,
        extensions: extensions({
          label,
          onSubmit: submit,
          onChange(code) {
            textarea.value = code;
            clearTimeout(timers.get(role));
            timers.set(
              role,
              setTimeout(() => {
                timers.delete(role);
                saveDraft(role, code);
              }, SAVE_DELAY_MS),
            );
          },
        }),
      }),
    });
    label.addEventListener("click", (event) => {
      event.preventDefault();
      view.focus();
    });
    editors.set(role, { view, textarea });

    const reset = panel.querySelector("[data-reset]");
    if (reset) {
      reset.hidden = false;
      reset.addEventListener("click", () => {
        view.dispatch({
          changes: { from: 0, to: view.state.doc.length, insert: starter[role] || "" },
        });
        clearTimeout(timers.get(role));
        timers.delete(role);
        storage.remove(draftKey(user, slug, role));
        announce(format(strings.reset, { file: `${role}.py` }));
        view.focus();
      });
    }
  }

  const showRole = setUpTabs(form, editors) || (() => {});
  if (restored) announce(strings.restored);

  window.addEventListener("pagehide", flushDrafts);

  function hideError() {
    errors.hidden = true;
    errors.textContent = "";
  }

  function showError(heading, detail, extra) {
    errors.textContent = "";
    for (const [text, strong] of [
      [heading, true],
      [detail, false],
      [extra, false],
    ]) {
      if (!text) continue;
      const line = document.createElement("p");
      if (strong) {
        const bold = document.createElement("strong");
        bold.textContent = text;
        line.appendChild(bold);
      } else {
        line.textContent = text;
      }
      errors.appendChild(line);
    }
    errors.hidden = false;
    if (errors.scrollIntoView) errors.scrollIntoView({ block: "nearest" });
  }

  function setButton(label, disabled) {
    button.textContent = label;
    button.disabled = disabled;
    button.setAttribute("aria-disabled", disabled ? "true" : "false");
  }

  function waitBeforeRetry(seconds) {
    clearInterval(retryTimer);
    let left = seconds;
    const tick = () => {
      if (left <= 0) {
        clearInterval(retryTimer);
        retryTimer = null;
        setButton(strings.submit, false);
        return;
      }
      setButton(`${strings.submit} (${left} s)`, true);
      left -= 1;
    };
    tick();
    retryTimer = setInterval(tick, 1000);
  }

  // A refusal that names a role's file ("The server file is 70 KiB") shows that tab.
  function showRoleOf(message) {
    for (const role of editors.keys()) {
      if (message && message.indexOf(`The ${role} file`) >= 0) showRole(role);
    }
  }

  async function submit() {
    if (busy || retryTimer) return;
    hideError();
    const files = {};
    for (const [role, { view }] of editors) {
      const code = view.state.doc.toString();
      if (code.trim()) files[role] = code;
    }
    if (!Object.keys(files).length) {
      showError(strings.empty);
      return;
    }
    busy = true;
    setButton(strings.submitting, true);
    announce(strings.submitting);
    flushDrafts();
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": token,
        },
        body: JSON.stringify({ files }),
      });
    } catch (error) {
      busy = false;
      setButton(strings.submit, false);
      announce("");
      showError(strings.network);
      return;
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (response.status === 202 && body && body.url) {
      window.location.assign(body.url);
      return;
    }
    busy = false;
    setButton(strings.submit, false);
    announce("");
    const code = String(response.status);
    const heading = (strings.status || {})[code] || format((strings.status || {}).other, { status: code });
    let detail = body && body.error ? body.error : "";
    if (!body && response.status === 400) detail = strings.expired; // CSRF: an HTML error page
    let extra = "";
    if (response.status === 429) {
      const seconds = parseInt(response.headers.get("Retry-After") || "", 10);
      if (seconds > 0) {
        extra = format(strings.retry, { num: seconds });
        waitBeforeRetry(seconds);
      }
    }
    showRoleOf(detail);
    showError(heading, detail, extra);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !event.defaultPrevented) {
      event.preventDefault();
      submit();
    }
  });
}

const form = document.getElementById("editor-form");
if (form) setUp(form);
