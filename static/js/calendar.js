// The calendar's drag and drop: a post that has not gone out, dropped on another day (or, in the
// week view, another hour), is rescheduled by the hidden form's ordinary POST to the post's
// "move" address; the page comes back with the calendar as it now stands. Native HTML drag and
// drop, no library. Without a mouse, each such post has a "Reschedule" link to its own form.
(function () {
  "use strict";

  var table = document.getElementById("calendar");
  var form = document.getElementById("calendar-move");
  if (!table || !form || !table.hasAttribute("data-movable")) return;
  var dragged = null;

  function element(event) {
    var target = event.target;
    return target && target.nodeType === 1 ? target : target && target.parentElement;
  }

  function cell(event) {
    var target = element(event);
    return target ? target.closest("td[data-day]") : null;
  }

  function clear() {
    table.querySelectorAll(".drop-target").forEach(function (td) {
      td.classList.remove("drop-target");
    });
  }

  table.addEventListener("dragstart", function (event) {
    var target = element(event);
    var entry = target ? target.closest("[data-move]") : null;
    if (!entry) return;
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.move);
    entry.classList.add("dragging");
  });

  table.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clear();
  });

  table.addEventListener("dragover", function (event) {
    var td = cell(event);
    if (!dragged || !td) return;
    event.preventDefault(); // this cell takes the drop
    event.dataTransfer.dropEffect = "move";
    if (!td.classList.contains("drop-target")) {
      clear();
      td.classList.add("drop-target");
    }
  });

  table.addEventListener("drop", function (event) {
    var td = cell(event);
    if (!dragged || !td) return;
    event.preventDefault();
    if (td.contains(dragged)) return; // dropped where it was
    form.action = dragged.dataset.move;
    form.elements.date.value = td.dataset.day;
    // The week view's rows are hours: the post keeps its minutes. The month view keeps its time.
    form.elements.time.value = td.dataset.hour ? td.dataset.hour + ":" + dragged.dataset.minute : "";
    dragged.classList.add("moving");
    form.submit();
  });
})();
