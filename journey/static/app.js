// Behaviour every page shares, as a file: the Content-Security-Policy allows no inline
// script. A <select data-submit-on-change> submits its form when the choice changes
// (the language switcher); without JavaScript its button does the same.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.matches && field.matches("select[data-submit-on-change]") && field.form) {
    field.form.submit();
  }
});
