/* Tastemaker inside the Shopify admin: ordinary links and forms, sent with a session token.
 *
 * Browsers do not send our cookie inside the admin's cross-site iframe, so every request of an
 * embedded page carries `Authorization: Bearer <shopify.idToken()>` instead. This script turns
 * same-origin link clicks and form submissions into such requests and swaps the page's content
 * with the answer; flashed messages become App Bridge toasts. A token is never sent by the
 * browser on its own, so these requests are CSRF-safe by construction. Without App Bridge
 * (standalone pages) the script does nothing and the same links and forms work as they are.
 *
 * Confirmations use App Bridge's modal, as the admin's own destructive actions do: a link that
 * leads to a confirmation page (a `form[data-confirm]` with nothing to fill in) opens a
 * <ui-modal> built from that page's title, text and buttons instead of showing the page, and
 * its form is sent only when the merchant presses the modal's primary button. A form that acts
 * at once (`data-confirm-title` on the form) asks the same way before it is sent. The server
 * pages stay the single source of the wording and the standalone (no JavaScript) fallback.
 * Edit forms carry `data-save-bar`, which App Bridge turns into the admin's save bar.
 */
(function () {
  "use strict";

  var bridge = window.shopify;
  if (!bridge || typeof bridge.idToken !== "function") {
    return;
  }
  var LOCATION_HEADER = "X-Tastemaker-Location";
  var FLASH_HEADER = "X-Tastemaker-Flash";

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : null;
  }

  function loading(on) {
    if (typeof bridge.loading === "function") {
      bridge.loading(on);
    }
  }

  function toast(message, isError) {
    if (bridge.toast && typeof bridge.toast.show === "function") {
      bridge.toast.show(message, { isError: Boolean(isError), duration: 5000 });
    }
  }

  function toastFlashes(root) {
    root.querySelectorAll("p.flash").forEach(function (flash) {
      // Long messages (a link shown once) stay on the page; a toast would hide them too soon.
      if (flash.textContent.length <= 120) {
        toast(flash.textContent.trim(), flash.classList.contains("error"));
      }
    });
  }

  function withoutIdToken(href) {
    var url = new URL(href, window.location.href);
    url.searchParams.delete("id_token");
    return url;
  }

  async function send(url, init) {
    var token = await bridge.idToken();
    var headers = Object.assign({}, init.headers || {}, { Authorization: "Bearer " + token });
    return fetch(url, Object.assign({}, init, { headers: headers, credentials: "omit" }));
  }

  function showFlashes(flashes) {
    var main = document.getElementById("content");
    flashes.slice().reverse().forEach(function (item) {
      var paragraph = document.createElement("p");
      paragraph.className = "flash " + item[0];
      paragraph.setAttribute("role", "status");
      paragraph.textContent = item[1];
      main.insertBefore(paragraph, main.firstChild);
    });
    toastFlashes(main);
  }

  function replaceBy(selector, fresh) {
    var current = document.querySelector(selector);
    var next = fresh.querySelector(selector);
    if (current && next) {
      current.replaceWith(document.importNode(next, true));
    } else if (next) {
      document.body.insertBefore(document.importNode(next, true), document.body.firstChild);
    }
  }

  var MODAL_ID = "tastemaker-confirm";

  function removeModal() {
    var old = document.getElementById(MODAL_ID);
    if (old) {
      old.remove();
    }
  }

  function sendForm(form, submitter) {
    var url = new URL(form.getAttribute("action") || window.location.href, window.location.href);
    var data = new URLSearchParams(new FormData(form, submitter || null));
    return load(url, { method: "POST", body: data }, "none");
  }

  /* A <ui-modal> asking `spec.title`; its primary button runs `spec.onConfirm`. */
  function confirmInModal(spec) {
    removeModal();
    var modal = document.createElement("ui-modal");
    modal.id = MODAL_ID;
    var body = document.createElement("div");
    spec.lines.forEach(function (line) {
      var paragraph = document.createElement("p");
      paragraph.textContent = line;
      body.appendChild(paragraph);
    });
    var bar = document.createElement("ui-title-bar");
    bar.setAttribute("title", spec.title);
    var confirm = document.createElement("button");
    confirm.setAttribute("variant", "primary");
    if (spec.critical) {
      confirm.setAttribute("tone", "critical");
    }
    confirm.textContent = spec.confirm;
    var keep = document.createElement("button");
    keep.textContent = spec.cancel;
    confirm.addEventListener("click", function () {
      bridge.modal.hide(MODAL_ID);
      spec.onConfirm();
    });
    keep.addEventListener("click", function () {
      bridge.modal.hide(MODAL_ID);
    });
    bar.appendChild(confirm);
    bar.appendChild(keep);
    modal.appendChild(body);
    modal.appendChild(bar);
    document.body.appendChild(modal);
    bridge.modal.show(MODAL_ID);
  }

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  /* The confirmation page `fresh` as a modal, if it is one a modal can hold (no fields). */
  function confirmationOf(fresh) {
    var form = fresh.querySelector("main#content form[data-confirm]");
    if (!form || !bridge.modal || form.querySelector("textarea, select, input:not([type=hidden])")) {
      return null;
    }
    var submit = form.querySelector("button[type=submit], button:not([type])");
    var ours = document.importNode(form, true);
    return {
      title: text(fresh.querySelector("[data-confirm-title]")) || document.title,
      lines: Array.prototype.map.call(fresh.querySelectorAll("[data-confirm-line]"), text),
      confirm: text(submit) || "Confirm",
      critical: Boolean(submit && submit.classList.contains("danger")),
      cancel: text(fresh.querySelector("[data-confirm-cancel]")) || "Cancel",
      onConfirm: function () {
        sendForm(ours, null);
      },
    };
  }

  function swap(fresh) {
    removeModal();
    document.title = fresh.title;
    replaceBy("ui-nav-menu", fresh);
    replaceBy("ui-title-bar", fresh);
    replaceBy("main#content", fresh);
    window.scrollTo(0, 0);
  }

  async function download(response) {
    var disposition = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/.exec(disposition);
    var link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = match ? match[1] : "download";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  async function load(url, init, historyMode) {
    loading(true);
    try {
      var response = await send(url, init);
      var next = response.headers.get(LOCATION_HEADER);
      if (next) {
        var flashes = JSON.parse(decodeURIComponent(response.headers.get(FLASH_HEADER) || "[]"));
        await load(new URL(next, window.location.href), { method: "GET" }, "push");
        showFlashes(flashes);
        return;
      }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") !== 0) {
        await download(response);
        return;
      }
      var fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      var confirmation = historyMode === "push" && response.ok ? confirmationOf(fresh) : null;
      if (confirmation) {
        confirmInModal(confirmation);
        return;
      }
      swap(fresh);
      if (historyMode === "push" && response.ok) {
        window.history.pushState({ tastemaker: true }, "", withoutIdToken(response.url));
      }
      toastFlashes(document.getElementById("content"));
    } catch (error) {
      toast("Tastemaker could not be reached. Try again.", true);
    } finally {
      loading(false);
    }
  }

  function ours(url) {
    return url.origin === window.location.origin;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button !== 0) {
      return;
    }
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    if (!ours(url) || link.target || link.hasAttribute("download")) {
      return;
    }
    if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) {
      return; // an anchor on this page
    }
    event.preventDefault();
    load(url, { method: "GET" }, "push");
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var url = new URL(form.action, window.location.href);
    if (event.defaultPrevented || !ours(url)) {
      return;
    }
    event.preventDefault();
    var method = (form.getAttribute("method") || "get").toLowerCase();
    if (method === "post" && form.hasAttribute("data-confirm-title") && bridge.modal) {
      var submitter = event.submitter || null;
      confirmInModal({
        title: form.getAttribute("data-confirm-title"),
        lines: form.hasAttribute("data-confirm-body") ? [form.getAttribute("data-confirm-body")] : [],
        confirm: form.getAttribute("data-confirm-button") || text(submitter) || "Confirm",
        critical: true, // only forms that destroy something act without a confirmation page
        cancel: form.getAttribute("data-confirm-cancel") || "Cancel",
        onConfirm: function () {
          sendForm(form, submitter);
        },
      });
      return;
    }
    var data = new URLSearchParams(new FormData(form, event.submitter || null));
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (button) { button.disabled = true; });
    var done = function () { buttons.forEach(function (button) { button.disabled = false; }); };
    if (method === "post") {
      load(url, { method: "POST", body: data }, "none").finally(done);
    } else {
      url.search = data.toString();
      load(url, { method: "GET" }, "push").finally(done);
    }
  });

  window.addEventListener("popstate", function () {
    load(new URL(window.location.href), { method: "GET" }, "none");
  });

  function start() {
    var exit = meta("tastemaker-exit-iframe");
    if (exit) {
      window.open(new URL(exit, window.location.href).href, "_top");
      return;
    }
    // The id token Shopify put in the first URL is spent: keep it out of history.
    window.history.replaceState(window.history.state, "", withoutIdToken(window.location.href));
    if (meta("tastemaker-reload")) {
      load(withoutIdToken(window.location.href), { method: "GET" }, "none");
      return;
    }
    toastFlashes(document);
  }

  start();
})();
