// The plan editor, enhanced: add and remove item rows in place, and keep the weekly total and
// the indicative-range warning up to date while typing. Without this file the form still works:
// "Add another item" is a submit button, and a cleared row is ignored.
(function () {
  "use strict";
  var table = document.querySelector("table[data-plan-editor]");
  if (!table) { return; }
  var form = table.closest("form");
  var body = table.tBodies[0];
  var count = form.querySelector("input[name=rows]");
  var total = document.getElementById("plan-total");
  var warning = document.getElementById("plan-range-warning");
  var low = parseFloat(table.dataset.low), high = parseFloat(table.dataset.high);

  function money(n) { return "£" + n.toFixed(2); }

  function update() {
    var sum = 0, any = false;
    Array.prototype.forEach.call(body.rows, function (row) {
      var units = parseFloat((row.querySelector("[name$='-units']") || {}).value);
      var cost = parseFloat(((row.querySelector("[name$='-unit_cost']") || {}).value || "").replace("£", ""));
      if (!isNaN(units) && !isNaN(cost)) { sum += Math.round(units * cost * 100) / 100; any = true; }
    });
    total.textContent = any ? "Total so far: " + money(sum) + " a week." : "";
    var outside = any && !isNaN(low) && !isNaN(high) && (sum < low || sum > high);
    warning.hidden = !outside;
    if (outside) {
      warning.textContent = "The total of " + money(sum) + " is outside the indicative range of " + money(low) +
        " to " + money(high) + ": say why in the plan.";
    }
  }

  function renumber(row, index) {
    row.querySelectorAll("[id],[for],[name],[aria-describedby]").forEach(function (el) {
      ["id", "for", "name", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/item-\d+-/g, "item-" + index + "-")); }
      });
    });
    row.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace(/item \d+$/, "item " + (index + 1));
    });
  }

  function addRemove(row) {
    var cell = row.insertCell(-1);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Remove";
    var need = row.querySelector("label");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = need ? " " + need.textContent.replace(/^Need, /, "") : "";
    button.appendChild(hidden);
    button.addEventListener("click", function () {
      row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
      row.hidden = true;  // an empty row is not sent as an item
      update();
      form.querySelector("button[name=add_row]").focus();
    });
    cell.appendChild(button);
  }

  var head = table.tHead.rows[0].insertCell(-1);
  head.outerHTML = "<th scope=\"col\"><span class=\"visually-hidden\">Remove</span></th>";
  Array.prototype.forEach.call(body.rows, addRemove);

  form.querySelector("button[name=add_row]").addEventListener("click", function (event) {
    event.preventDefault();
    var index = parseInt(count.value, 10);
    var row = body.rows[body.rows.length - 1].cloneNode(true);
    row.hidden = false;
    row.deleteCell(-1);
    renumber(row, index);
    row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
    row.querySelectorAll(".error-message").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".form-group.error").forEach(function (el) { el.classList.remove("error"); });
    body.appendChild(row);
    addRemove(row);
    count.value = String(index + 1);
    row.querySelector("select").focus();
  });
  table.addEventListener("input", update);
  table.addEventListener("change", update);
  update();
}());
