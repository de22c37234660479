// The list's bulk form: "select all on this page", the count of checked tickets, and only the chosen action's value
// field shown. Without this script the form still works: every value field shows and the checked boxes are posted.
// Delegated from the document, so it keeps working after htmx swaps the results in; registered once.
if (!window.helpdeskBulk) {
  window.helpdeskBulk = true;
  const refresh = () => {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    const all = form.querySelector("[data-bulk-all]");
    const boxes = [...form.querySelectorAll("input[name=ids]")];
    const checked = boxes.filter((box) => box.checked).length;
    all.hidden = false;
    all.checked = checked > 0 && checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
    form.querySelector("[data-bulk-count]").textContent = `${checked} selected (at most 100 at once).`;
    const action = form.querySelector("select[name=action]").value;
    for (const field of form.querySelectorAll("[data-bulk-for]")) {
      field.hidden = !field.dataset.bulkFor.split(" ").includes(action);
    }
  };
  document.addEventListener("change", (event) => {
    const form = event.target.closest && event.target.closest("#bulk-form");
    if (!form) return;
    if (event.target.matches("[data-bulk-all]")) {
      for (const box of form.querySelectorAll("input[name=ids]")) box.checked = event.target.checked;
    }
    refresh();
  });
  document.addEventListener("htmx:afterSwap", refresh);
  refresh();
}
