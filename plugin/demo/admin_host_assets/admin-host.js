/* The demo admin stand-in's side of App Bridge (see app-bridge.js, the app's side): session
 * tokens, toasts, loading, the nav menu and title, modals, the save bar, and opening a URL in
 * the top window. Whatever the app sends is drawn with textContent only, never as HTML. */
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

  var saveBar = document.getElementById("save-bar");
  var modal = document.getElementById("modal");
  var openModal = null;

  function saveBarShowing() {
    return !saveBar.hidden;
  }

  function refuseToLeave() {
    // As in Shopify's admin: with unsaved changes the app's route does not change.
    saveBar.classList.remove("shake");
    void saveBar.offsetWidth;
    saveBar.classList.add("shake");
  }

  document.getElementById("save-bar-save").addEventListener("click", function () {
    tell({ type: "tm:save-bar-action", action: "save" });
  });
  document.getElementById("save-bar-discard").addEventListener("click", function () {
    tell({ type: "tm:save-bar-action", action: "discard" });
  });

  function showModal(data) {
    openModal = String(data.id);
    var dialog = modal.querySelector(".host-modal");
    dialog.className = "host-modal " + (data.variant === "small" || data.variant === "large" ? data.variant : "");
    document.getElementById("modal-title").textContent = String(data.title || "");
    var body = document.getElementById("modal-body");
    body.textContent = "";
    (Array.isArray(data.content) ? data.content : []).forEach(function (text) {
      var paragraph = document.createElement("p");
      paragraph.textContent = String(text);
      body.appendChild(paragraph);
    });
    var foot = document.getElementById("modal-buttons");
    foot.textContent = "";
    var buttons = (Array.isArray(data.buttons) ? data.buttons : []).map(function (spec, index) {
      return { spec: spec, index: index };
    });
    // Secondary actions first, the primary action last (rightmost), as Polaris lays them out.
    buttons.sort(function (a, b) {
      return (a.spec.variant === "primary") - (b.spec.variant === "primary") || a.index - b.index;
    });
    buttons.forEach(function (entry) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "host-button" + (entry.spec.variant === "primary" ? " primary" : "") +
        (entry.spec.tone === "critical" ? " critical" : "");
      button.textContent = String(entry.spec.label || "");
      button.disabled = Boolean(entry.spec.disabled);
      button.addEventListener("click", function () {
        tell({ type: "tm:modal-button", id: openModal, index: entry.index });
      });
      foot.appendChild(button);
    });
    modal.hidden = false;
    var primary = foot.querySelector(".primary") || document.getElementById("modal-close");
    primary.focus();
  }

  function hideModal(byAdmin) {
    if (openModal === null) {
      return;
    }
    if (byAdmin) {
      tell({ type: "tm:modal-closed", id: openModal });
    }
    openModal = null;
    modal.hidden = true;
  }

  document.getElementById("modal-close").addEventListener("click", function () { hideModal(true); });
  modal.addEventListener("click", function (event) {
    if (event.target === modal) {
      hideModal(true);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      hideModal(true);
    }
  });

  frame.addEventListener("load", function () {
    // A new document in the frame: what the old one showed in the admin goes with it.
    saveBar.hidden = true;
    hideModal(false);
  });

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
        if (saveBarShowing()) {
          refuseToLeave();
          return;
        }
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
    } else if (data.type === "tm:modal-show") {
      showModal(data);
    } else if (data.type === "tm:modal-hide") {
      if (openModal === String(data.id)) {
        hideModal(false);
      }
    } else if (data.type === "tm:save-bar-show") {
      saveBar.hidden = false;
    } else if (data.type === "tm:save-bar-hide") {
      saveBar.hidden = true;
    } else if (data.type === "tm:open") {
      var target = new URL(String(data.url));
      if (target.protocol === "https:" || target.protocol === "http:") {
        window.location.assign(target.href);
      }
    } else if (data.type === "tm:nav-menu") {
      current = data.current || current;
      menu(Array.isArray(data.items) ? data.items : []);
      document.getElementById("host-title").textContent = "Tastemaker" + (data.title ? " · " + data.title : "");
    }
  });
})();
