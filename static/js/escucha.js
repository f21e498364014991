// Behaviour every page shares, kept out of the HTML so that the Content-Security-Policy can refuse
// inline script: a <select data-autosubmit> submits its form when changed, a <form data-confirm>
// asks before it is sent.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
