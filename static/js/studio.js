// Instructor studio: small progressive enhancements, plain ES2019, no dependencies.
// Every page works without it: previews have a "Preview" button, progress pages reload.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // -- live Markdown preview ---------------------------------------------------------------
  function setupPreviews() {
    var form = document.querySelector("form[data-preview-url]");
    if (!form) return;
    var url = form.getAttribute("data-preview-url");
    var fields = form.querySelectorAll("textarea[data-preview]");
    Array.prototype.forEach.call(fields, function (field) {
      var pane = document.getElementById(field.getAttribute("data-preview"));
      if (!pane) return;
      var timer = null;
      var sequence = 0;
      field.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var mine = ++sequence;
          var body = new URLSearchParams();
          body.set("text", field.value);
          body.set("mode", field.getAttribute("data-preview-mode") || "block");
          fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), "Accept": "text/html" },
            body: body
          }).then(function (response) {
            if (!response.ok) throw new Error("preview " + response.status);
            return response.text();
          }).then(function (html) {
            if (mine !== sequence) return; // an older answer arriving late
            pane.innerHTML = html; // already sanitized by the server's Markdown renderer
            var details = pane.closest("details");
            if (details) details.open = true;
          }).catch(function () { /* keep the last preview; the Preview button still works */ });
        }, 350);
      });
    });
  }

  // -- spec: jump to an error's line, insert an example check ---------------------------------
  function selectLine(textarea, line) {
    var lines = textarea.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    var end = start + (lines[line - 1] || "").length;
    textarea.focus();
    textarea.setSelectionRange(start, end);
    var height = textarea.scrollHeight / Math.max(lines.length, 1);
    textarea.scrollTop = Math.max(0, (line - 4) * height);
  }

  function setupSpec() {
    var spec = document.getElementById("spec");
    if (!spec) return;
    Array.prototype.forEach.call(document.querySelectorAll("a.spec-line[data-line]"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        selectLine(spec, parseInt(link.getAttribute("data-line"), 10) || 1);
      });
    });
    var tool = document.querySelector(".snippet-tool");
    var data = document.getElementById("spec-snippets");
    if (!tool || !data) return;
    var snippets = JSON.parse(data.textContent || "{}");
    tool.hidden = false;
    var button = document.getElementById("snippet-insert");
    var select = document.getElementById("snippet-kind");
    var status = document.getElementById("snippet-status");
    button.addEventListener("click", function () {
      var snippet = snippets[select.value];
      if (!snippet) return;
      var text = spec.value.replace(/\s+$/, "");
      if (!text) {
        text = "port: 65432\nchecks:\n" + snippet;
      } else if (!/^checks:/m.test(text)) {
        text += "\nchecks:\n" + snippet;
      } else {
        text += "\n" + snippet;
      }
      spec.value = text;
      var line = text.split("\n").length - snippet.split("\n").length + 1;
      selectLine(spec, line);
      if (status) status.textContent = status.getAttribute("data-done") || "✓";
    });
  }

  // -- confirmations and the busy state of the validation button ---------------------------
  function setupForms() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button[data-busy-text]"), function (button) {
      var form = button.form;
      if (!form) return;
      form.addEventListener("submit", function () {
        // Let the submission go out first, then show that the grader is working.
        setTimeout(function () {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
          button.textContent = button.getAttribute("data-busy-text");
        }, 0);
      });
    });
  }

  // -- regrade progress -------------------------------------------------------------------
  function setupProgress() {
    var box = document.getElementById("regrade-progress");
    if (!box || box.getAttribute("data-finished") === "true") return;
    var url = box.getAttribute("data-progress-url");
    var strings = document.getElementById("progress-strings");
    var summary = document.getElementById("progress-summary");
    var bar = document.getElementById("progress-bar");
    var reload = document.getElementById("progress-reload");
    if (reload) reload.hidden = true;
    function fill(template, body) {
      return template.replace("{done}", body.done).replace("{total}", body.total);
    }
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("progress " + response.status);
          return response.json();
        })
        .then(function (body) {
          bar.max = body.total || 1;
          bar.value = body.done;
          bar.textContent = body.done + " / " + body.total;
          Array.prototype.forEach.call(box.querySelectorAll("[data-count]"), function (cell) {
            cell.textContent = body.counts[cell.getAttribute("data-count")] || 0;
          });
          var key = body.finished ? "data-finished" : "data-running";
          var text = fill(strings.getAttribute(key), body);
          if (summary.textContent !== text) summary.textContent = text;
          if (body.finished) {
            clearInterval(timer);
            box.setAttribute("data-finished", "true");
            if (reload) reload.hidden = false; // the verdicts below are from page load
          }
        })
        .catch(function () {
          clearInterval(timer);
          if (reload) reload.hidden = false;
        });
    }, 1000);
  }

  // -- validation progress: the grading service runs it; reload the page when done ---------
  function setupValidation() {
    var box = document.getElementById("validation-progress");
    if (!box) return;
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("validation " + response.status);
          return response.json();
        })
        .then(function (body) {
          if (bar && body.total) {
            bar.max = body.total;
            bar.value = body.done;
          }
          if (body.finished) {
            clearInterval(timer);
            window.location.reload(); // the report is rendered by the server
          }
        })
        .catch(function () { clearInterval(timer); }); // the link below still works
    }, 1000);
  }

  function start() {
    setupPreviews();
    setupSpec();
    setupForms();
    setupProgress();
    setupValidation();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
