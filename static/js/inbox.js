// Inbox keyboard and selection. Small on purpose: the server renders everything, htmx swaps it,
// and this only moves a highlight and presses the buttons that are already on the page.
(function () {
  "use strict";

  var current = null; // id of the highlighted mention, kept across htmx swaps
  var currentIndex = -1; // its place in the list: when an action takes the row out, the next one is there

  function openFilters() { var box = document.getElementById("filter-box"); if (box) box.open = true; }
  // On a phone the filters start folded under their summary, so the queue shows on the first
  // screen; the chips above the list still say which filters are on.
  var filterBox = document.getElementById("filter-box");
  if (filterBox && window.matchMedia("(max-width: 760px)").matches) filterBox.open = false;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#mention-list > li.mention")); }
  function row() { return current ? document.getElementById("mention-" + current) : null; }

  function highlight(el) {
    rows().forEach(function (r) { r.classList.remove("current"); r.removeAttribute("aria-current"); });
    if (!el) { current = null; currentIndex = -1; return; }
    current = el.dataset.id;
    currentIndex = rows().indexOf(el);
    el.classList.add("current");
    el.setAttribute("aria-current", "true");
    el.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(row());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), list.length - 1);
    highlight(list[next]);
  }

  function press(action) {
    var el = row();
    var button = el && el.querySelector("form.quick button[value='" + action + "']");
    if (!button) return;
    // A row swapped in a moment ago may not be wired to htmx yet: wire it, or the press
    // would fall back to a full-page post.
    if (window.htmx) window.htmx.process(button.form);
    button.click();
  }

  function undo() {
    var button = document.querySelector("#bulk-result form.undo button");
    if (!button) return;
    if (window.htmx) window.htmx.process(button.form);
    button.click();
  }

  // The Undo button goes after a few seconds (the server still honours a click made just before).
  function expireUndo() {
    document.querySelectorAll("#bulk-result form.undo[data-undo-seconds]").forEach(function (form) {
      if (form.dataset.timer) return;
      form.dataset.timer = "1";
      window.setTimeout(function () { form.remove(); }, parseInt(form.dataset.undoSeconds, 10) * 1000);
    });
  }

  function countSelected() {
    var out = document.getElementById("selected-count");
    if (out) out.textContent = document.querySelectorAll("#mention-list input.select:checked").length;
  }

  function help(show) {
    var overlay = document.getElementById("kbd-help");
    if (overlay) overlay.hidden = !show;
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable='true']");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      help(false);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var el = row();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "x":
        if (el) { var box = el.querySelector("input.select"); box.checked = !box.checked; countSelected(); }
        break;
      case "o": if (el) window.location.href = el.dataset.open; break;
      // The mention page puts the cursor in the composer when its address ends in #reply.
      case "r": if (el) window.location.href = el.dataset.open + "#reply"; break;
      case "z": undo(); break;
      case "a": press("assign"); break;
      case "e": press("close"); break;
      case "s": press("spam"); break;
      case "/": var search = document.getElementById("search"); if (search) { openFilters(); search.focus(); } break;
      case "?": help(true); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("#mention-list input.select")) countSelected();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help-open]")) help(true);
    if (event.target.closest("[data-help-close]")) help(false);
    // A filter chip's ×: clear that field of the filter form and let the form ask again, so the
    // form and the list agree (the link itself works without JavaScript).
    var chip = event.target.closest("a[data-clear]");
    var field = chip && document.querySelector("#filters [name='" + chip.dataset.clear + "']");
    if (field) {
      event.preventDefault();
      field.value = "";
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    var li = event.target.closest("#mention-list > li.mention");
    if (li && !event.target.closest("a, button, input")) highlight(li);
  });
  // A row replaced after an action keeps the highlight; a row the action took out of the queue
  // passes it to the row that took its place; a new list starts with none selected.
  document.addEventListener("htmx:afterSettle", function () {
    var el = row();
    if (el) highlight(el);
    else if (current && currentIndex >= 0 && rows().length) highlight(rows()[Math.min(currentIndex, rows().length - 1)]);
    else { current = null; currentIndex = -1; }
    countSelected();
    expireUndo();
    var empty = document.getElementById("inbox-empty");
    if (empty) empty.hidden = rows().length > 0 || !!document.getElementById("load-more");
  });
  // After an undo the list is drawn again under the same filters: the mentions put back return.
  document.body.addEventListener("inbox-refresh", function () {
    var next = document.getElementById("bulk-next");
    if (window.htmx && next) window.htmx.ajax("GET", next.value, { target: "#inbox-results", swap: "innerHTML" });
  });
})();
