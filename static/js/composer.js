// The reply composer: a live count against the platform's limit, and saved replies inserted
// from the select or by typing /shortcut followed by space, Tab or Enter. Text only: a saved
// reply is set as the textarea's value, never as HTML.
(function () {
  "use strict";

  function setup(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    var area = form.querySelector("textarea[name=text]");
    var counter = form.querySelector("[data-counter]");
    var select = form.querySelector("[data-saved-replies]");
    var max = parseInt(area.dataset.maxLength, 10) || 0;

    function count() {
      var length = Array.from(area.value.trim()).length;
      counter.textContent = length;
      counter.parentNode.classList.toggle("over", max > 0 && length > max);
    }

    function savedText(shortcut) {
      if (!select) return null;
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value && select.options[i].value === shortcut) return select.options[i].dataset.text;
      }
      return null;
    }

    function insert(text) {
      var start = area.selectionStart, end = area.selectionEnd;
      area.value = area.value.slice(0, start) + text + area.value.slice(end);
      area.selectionStart = area.selectionEnd = start + text.length;
      area.focus();
      count();
    }

    area.addEventListener("input", count);
    area.addEventListener("keydown", function (event) {
      if (event.key !== " " && event.key !== "Tab" && event.key !== "Enter") return;
      var before = area.value.slice(0, area.selectionStart);
      var match = before.match(/(^|\s)\/([\w-]+)$/);
      var text = match && savedText(match[2]);
      if (text == null) return;
      event.preventDefault();
      area.selectionStart = area.selectionStart - match[2].length - 1;
      insert(text);
    });
    if (select) {
      select.addEventListener("change", function () {
        var text = savedText(select.value);
        if (text != null) insert(text);
        select.value = "";
      });
    }
    count();
    // Arriving from the inbox's "r" (the address ends in #reply): the cursor is in the text, at its
    // end. Again once the page has loaded, since the browser's own move to the #reply heading (not
    // focusable) puts the focus back on the page.
    if (window.location.hash === "#reply" && !form.dataset.focused) {
      form.dataset.focused = "1";
      focusText(area);
      window.addEventListener("load", function () { window.setTimeout(function () { focusText(area); }, 0); });
    }
  }

  function focusText(area) {
    if (!document.body.contains(area)) return;
    area.focus();
    area.selectionStart = area.selectionEnd = area.value.length;
  }

  function setupAll() {
    document.querySelectorAll("form[data-composer]").forEach(setup);
  }
  // On the mention page too, "r" (outside a field) puts the cursor in the reply.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "r" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable='true']")) return;
    if (document.getElementById("mention-list")) return; // the inbox's "r" opens the mention instead
    var area = document.querySelector("form[data-composer] textarea[name=text]");
    if (!area) return;
    event.preventDefault();
    focusText(area);
  });
  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:load", setupAll);
})();
