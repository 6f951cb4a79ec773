/* ginauth browser client: signIn, signOut and getSession, like Light-Auth's
 * CreateLightAuthClient(). No dependencies. Served by ginauth at
 * <group>/client.js; exposes window.ginauth and ginauth.createClient(base).
 * window.ginauth talks to the auth routes at window.GINAUTH_BASE_PATH when
 * set, else at the path this script was loaded from (so "/app/auth" when
 * loaded from "/app/auth/client.js"), else at "/auth". Without a
 * callbackUrl, the server's default target is used (the app's home). */
(function (global) {
  "use strict";

  function createClient(basePath) {
    var base = (basePath || "/auth").replace(/\/+$/, "");

    function csrfToken() {
      return fetch(base + "/csrf", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error("ginauth: csrf " + r.status);
          return r.json();
        })
        .then(function (j) { return j.csrfToken; });
    }

    function post(path, body) {
      return csrfToken().then(function (token) {
        return fetch(base + path, {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify(body)
        });
      }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok || !j.url) throw new Error("ginauth: " + (j.error || r.status));
          return j.url;
        });
      });
    }

    return {
      /* signIn(provider, callbackUrl): starts the sign-in and navigates to the provider. */
      signIn: function (provider, callbackUrl) {
        return post("/signin/" + encodeURIComponent(provider), { callbackUrl: callbackUrl || "" })
          .then(function (url) { global.location.assign(url); });
      },
      /* signOut({revokeToken, callbackUrl}): ends the session and navigates on. */
      signOut: function (opts) {
        opts = opts || {};
        return post("/signout", { revokeToken: !!opts.revokeToken, callbackUrl: opts.callbackUrl || "" })
          .then(function (url) { global.location.assign(url); });
      },
      /* getSession(): resolves to {user, provider, expiresAt}, or null when signed out. */
      getSession: function () {
        return fetch(base + "/session", { credentials: "same-origin", cache: "no-store" })
          .then(function (r) {
            if (!r.ok) throw new Error("ginauth: session " + r.status);
            return r.json();
          });
      }
    };
  }

  /* scriptBase is the directory of this script's own URL ("/app/auth/",
   * or "/" for auth routes at the root) when it was loaded as
   * <group>/client.js from the page's origin, else "". */
  function scriptBase() {
    try {
      var s = global.document && global.document.currentScript;
      if (!s || !s.src) return "";
      var u = new URL(s.src, global.location.href);
      if (u.origin !== global.location.origin || !/\/client\.js$/.test(u.pathname)) return "";
      return u.pathname.replace(/client\.js$/, "");
    } catch (e) {
      return "";
    }
  }

  var client = createClient(global.GINAUTH_BASE_PATH || scriptBase());
  client.createClient = createClient;
  global.ginauth = client;
})(typeof window !== "undefined" ? window : this);
