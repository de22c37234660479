// django-celery-beat's periodic task form (admin): the crontab field's help text also shows the chosen crontab in
// words. Its template's inline script as a file (templates/admin/djcelery/change_periodictask_form.html), since the
// Content-Security-Policy allows scripts from this site only. Text is set as text, never as HTML.
(function () {
  "use strict";
  const $ = django.jQuery;
  const readableCrontabs = JSON.parse(document.getElementById("readable-crontabs").textContent);
  const originalCrontabHelp = document.currentScript.dataset.crontabHelp || "";

  function updateCrontabHelp(additional) {
    const help = $(".field-crontab .help");
    help.empty();
    help.append(document.createTextNode(originalCrontabHelp), $("<br>"), document.createTextNode(`Translation: ${additional}`));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
})();
