// Rule builder: offer only the operators a field accepts and the inputs an action needs.
// The server validates everything again; without this script every control stays visible.
(function () {
  const form = document.getElementById("rule-form");
  if (!form) return;
  const fieldOps = JSON.parse(document.getElementById("field-ops").textContent);
  const actionParams = { ticket: ["department", "priority"], assign: ["user"], notify: ["user"], status: ["status"], tag: ["tag"], spam: [] };

  function syncCondition(row) {
    const field = row.querySelector("[name$='-field']").value;
    const op = row.querySelector("[name$='-op']");
    const allowed = fieldOps[field] || [];
    for (const option of op.options) option.hidden = field !== "" && !allowed.includes(option.value);
    if (field && !allowed.includes(op.value)) op.value = allowed[0];
  }

  function syncAction(row) {
    const type = row.querySelector("[name$='-type']").value;
    const wanted = actionParams[type] || [];
    for (const param of ["department", "priority", "user", "status", "tag"]) {
      const control = row.querySelector(`[name$='-${param}']`);
      control.hidden = !wanted.includes(param);
    }
  }

  form.querySelectorAll(".condition-row").forEach((row) => { syncCondition(row); row.addEventListener("change", () => syncCondition(row)); });
  form.querySelectorAll(".action-row").forEach((row) => { syncAction(row); row.addEventListener("change", () => syncAction(row)); });
})();
