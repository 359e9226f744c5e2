// Behaviour every page shares, as a file: the Content-Security-Policy allows no inline
// script. A <select data-submit-on-change> submits its form when the choice changes
// (the language switcher); without JavaScript its button does the same.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("select[data-submit-on-change]") && field.form) {
    field.form.submit();
  }
});

// A form whose submit button (or the form itself) carries data-confirm="question" asks
// before it is sent: dangerous actions (cancel, suspend, delete) are confirmed. Without
// JavaScript the form is sent as it is, and the server still checks everything.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) ||
    form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A form sent back with errors: its first field in error (or the form's own message)
// takes the focus, which brings it into view and has a screen reader read it. On a long
// page (the journey's travellers, arrival, insurance) the page otherwise opens at its
// top, far above the message, as if nothing had been refused.
(function () {
  var first = document.querySelector("main [aria-invalid='true'], main .form-errors");
  if (!first) {
    return;
  }
  var details = first.closest("details");
  if (details) {
    details.open = true;
  }
  if (first.classList.contains("form-errors")) {
    first.setAttribute("tabindex", "-1");
  }
  first.focus();
})();
