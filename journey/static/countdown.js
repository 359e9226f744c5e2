/* The checkout's hold (templates/patient/checkout.html): the server gives the moment
   the holds run out (data-expires, ISO 8601) and the text of the moment in the reader's
   locale and zone, which stands without JavaScript. Here the minutes and seconds left
   count down every second; a screen reader hears the minutes left at most once a
   minute (aria-live="polite", the reader's plural forms from data-minutes-left); at 0
   the page says the hold ran out and the pay button is disabled. */
(function () {
  "use strict";
  var panel = document.getElementById("hold");
  if (!panel || !panel.dataset.expires) { return; }
  var expires = Date.parse(panel.dataset.expires);
  if (isNaN(expires)) { return; }
  var clock = document.getElementById("countdown");
  var line = panel.querySelector(".countdown-line");
  var live = document.getElementById("countdown-live");
  var texts = [];
  try { texts = JSON.parse(panel.dataset.minutesLeft || "[]"); } catch (error) { texts = []; }
  var announced = null;
  var timer = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function ranOut() {
    window.clearInterval(timer);
    panel.classList.add("ran-out");
    line.hidden = true;
    var message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = panel.dataset.ranOut;
    panel.appendChild(message);
    live.textContent = "";
    var pay = document.getElementById("pay");
    if (pay) {
      pay.disabled = true;
      pay.setAttribute("aria-describedby", "hold-title");
    }
  }

  function tick() {
    var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    if (left <= 0) { ranOut(); return; }
    var minutes = Math.floor(left / 60);
    clock.textContent = pad(minutes) + ":" + pad(left % 60);
    var whole = Math.ceil(left / 60);  // "3 minutes left" from 3:00 down to 2:01
    if (whole !== announced && texts[whole]) {
      announced = whole;
      live.textContent = texts[whole];
    }
  }

  line.hidden = false;
  tick();
  timer = window.setInterval(tick, 1000);
}());
