// Mock interview countdown: counts down to data-ends-at (set by the server, so a reload
// shows the same time left). Without JavaScript the page says when the interview ends.
(function () {
  "use strict";
  var clocks = document.querySelectorAll(".countdown[data-ends-at]");
  if (!clocks.length) return;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    clocks.forEach(function (el) {
      var left = Math.max(0, Math.round((Date.parse(el.dataset.endsAt) - Date.now()) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      el.setAttribute("aria-label", el.textContent);
      if (left === 0 && el.dataset.reload === "1" && !el.dataset.done) {
        el.dataset.done = "1";
        window.location.reload();
      }
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
