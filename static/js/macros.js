// The reply box's macro picker: the preview partial carries the macro's text filled for this ticket; put it in the
// reply box once (the agent edits it before sending). Registered once however often the ticket part is swapped, and
// run at load too, for a preview that arrived before this script did.
if (!window.helpdeskMacros) {
  window.helpdeskMacros = true;
  const fill = () => {
    const source = document.querySelector("#macro-preview [data-macro-text]:not([data-used])");
    const box = source && source.closest("form") && source.closest("form").querySelector("textarea[name=body]");
    if (!box) return;
    source.setAttribute("data-used", "");
    box.value = source.value;
    box.focus();
  };
  document.addEventListener("htmx:afterSwap", fill);
  fill();
}
