/* The demo admin stand-in's side of App Bridge: session tokens, toasts, loading, the nav menu. */
(function () {
  "use strict";
  var frame = document.getElementById("app-frame");
  var appOrigin = frame.dataset.appOrigin;
  var tokenUrl = frame.dataset.tokenUrl;
  var nav = document.getElementById("app-nav");
  var current = "/admin";

  function tell(message) {
    frame.contentWindow.postMessage(message, appOrigin);
  }

  function toast(text, isError) {
    var item = document.createElement("div");
    item.className = "host-toast" + (isError ? " error" : "");
    item.setAttribute("role", "status");
    item.textContent = text;
    document.getElementById("toasts").appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  function menu(items) {
    nav.textContent = "";
    items.forEach(function (entry) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#";
      link.textContent = entry.label;
      if (entry.path === current) {
        link.setAttribute("aria-current", "page");
      }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        current = entry.path;
        tell({ type: "tm:navigate", path: entry.path });
        menu(items);
      });
      li.appendChild(link);
      nav.appendChild(li);
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== appOrigin || event.source !== frame.contentWindow) {
      return;
    }
    var data = event.data || {};
    if (data.type === "tm:id-token-request") {
      fetch(tokenUrl, { method: "POST" })
        .then(function (response) { return response.json(); })
        .then(function (body) { tell({ type: "tm:id-token", id: data.id, token: body.token }); });
    } else if (data.type === "tm:toast") {
      toast(String(data.message), Boolean(data.isError));
    } else if (data.type === "tm:loading") {
      document.getElementById("host-loading").hidden = !data.on;
    } else if (data.type === "tm:nav-menu") {
      current = data.current || current;
      menu(Array.isArray(data.items) ? data.items : []);
      document.getElementById("host-title").textContent = "Tastemaker" + (data.title ? " · " + data.title : "");
    }
  });
})();
