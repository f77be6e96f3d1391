/* Stand-in for Shopify's App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js) in the demo and
 * the browser tests: the same globals the app's pages use, talking to the demo admin page. */
(function () {
  "use strict";
  var adminOrigin = new URL(document.currentScript.src).origin;
  var waiting = {};
  var counter = 0;

  function post(message) {
    window.parent.postMessage(message, adminOrigin);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== adminOrigin || event.source !== window.parent) {
      return;
    }
    var data = event.data || {};
    if (data.type === "tm:id-token" && waiting[data.id]) {
      waiting[data.id](String(data.token));
      delete waiting[data.id];
    } else if (data.type === "tm:navigate" && typeof data.path === "string" && data.path.charAt(0) === "/") {
      window.history.pushState({}, "", data.path);
      window.dispatchEvent(new PopStateEvent("popstate"));
    }
  });

  window.shopify = {
    idToken: function () {
      return new Promise(function (resolve) {
        counter += 1;
        waiting[counter] = resolve;
        post({ type: "tm:id-token-request", id: counter });
      });
    },
    toast: {
      show: function (message, options) {
        post({ type: "tm:toast", message: String(message), isError: Boolean(options && options.isError) });
      },
    },
    loading: function (on) {
      post({ type: "tm:loading", on: Boolean(on) });
    },
  };

  var sent = "";
  function sendMenu() {
    var menu = document.querySelector("ui-nav-menu");
    if (!menu) {
      return;
    }
    var items = Array.prototype.map.call(menu.querySelectorAll("a"), function (link) {
      return { label: link.textContent.trim(), path: link.getAttribute("href") };
    });
    var bar = document.querySelector("ui-title-bar");
    var title = bar ? bar.getAttribute("title") : "";
    var message = JSON.stringify({ items: items, current: window.location.pathname, title: title });
    if (message !== sent) {
      sent = message;
      post({ type: "tm:nav-menu", items: items, current: window.location.pathname, title: title });
    }
  }
  new MutationObserver(sendMenu).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", sendMenu);
})();
