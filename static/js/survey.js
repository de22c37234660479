// One click from the email records the clicked score: the landing page GET records nothing (link scanners only GET),
// and this script POSTs the preselected score at once. Without JavaScript, the form's button does the same.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  var status = document.getElementById("autosubmit-status");
  if (!form || !status) return;
  var data = new FormData();
  data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
  data.append(form.dataset.autosubmitField || "csat", form.dataset.autosubmit);
  data.append("via", "auto");
  fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      status.textContent = "Thank you! Your rating is recorded. You can tell us more below.";
      status.hidden = false;
      form.removeAttribute("data-autosubmit");
    })
    .catch(function () {
      var button = form.querySelector("button[type=submit]");
      status.textContent = "We could not record your rating automatically. Please press “" +
        (button ? button.textContent.trim() : "Send") + "”.";
      status.hidden = false;
    });
});
