/* The example's home page script. It wires the buttons that use ginauth's
 * browser client (window.ginauth, loaded before it from
 * <GINAUTH_URL>/auth/client.js, which finds the auth routes from its own
 * URL), and shows what the client's getSession() returns. The buttons are hidden in the HTML: without this script they
 * would do nothing, and the forms next to them still work. */
(function () {
  "use strict";

  var client = window.ginauth;
  var errorBox = document.getElementById("js-error");
  var view = document.getElementById("js-session");

  function showError(err) {
    if (!errorBox) return;
    errorBox.textContent = "The client script failed: " + ((err && err.message) || err);
    errorBox.hidden = false;
  }

  if (!client) {
    showError("window.ginauth is missing (client.js did not load)");
    return;
  }

  /* wire shows the button id and runs action on click. The action navigates
   * away when it succeeds; on failure the button works again. */
  function wire(id, action) {
    var button = document.getElementById(id);
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      errorBox.hidden = true;
      action(button).catch(function (err) {
        button.disabled = false;
        showError(err);
      });
    });
  }

  wire("js-signin", function (button) {
    /* No callbackUrl: ginauth's default, the app's home (under GINAUTH_URL's path). */
    return client.signIn(button.getAttribute("data-provider"));
  });
  wire("js-signout", function () {
    return client.signOut({ revokeToken: true });
  });

  if (view) {
    client.getSession().then(function (s) {
      if (s && s.user) {
        view.textContent = "The client script sees " + (s.user.name || s.user.sub) +
          " (provider " + s.provider + "); the session ends at " +
          new Date(s.expiresAt).toUTCString() + " unless it is used again.";
        view.setAttribute("data-user", s.user.sub);
        view.setAttribute("data-state", "signed-in");
      } else {
        view.textContent = "The client script sees no session.";
        view.setAttribute("data-state", "signed-out");
      }
      view.hidden = false;
    }, function (err) {
      view.setAttribute("data-state", "error");
      showError(err);
    });
  }
})();
