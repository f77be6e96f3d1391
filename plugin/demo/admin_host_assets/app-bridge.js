/* Stand-in for Shopify's App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js) in the demo and
 * the browser tests: the same globals and web components the app's pages use, drawn by the demo
 * admin page (admin-host.js) the way the Shopify admin draws them, outside the app's iframe.
 *
 *   shopify.idToken(), shopify.toast.show(message, {isError, duration}), shopify.loading(on)
 *   <ui-nav-menu> (links become the admin's sidebar), <ui-title-bar title> (the page's title)
 *   <ui-modal id> with one content element and a <ui-title-bar> of <button>s;
 *     element.show()/hide()/toggle(), shopify.modal.show(id)/hide(id)/toggle(id), "show"/"hide"
 *     events; the admin's buttons click the app's own <button> elements
 *   <ui-save-bar id> with <button variant="primary"> (Save) and <button> (Discard);
 *     element.show()/hide()/toggle(), .showing, shopify.saveBar.show(id)/hide(id)/toggle(id)
 *   <form data-save-bar>: the save bar shows while the form differs from how it loaded;
 *     Save submits the form (a submit event), Discard resets it (a reset event)
 *   open(url, "_top"): the admin navigates the top window (an iframe may not do it itself)
 */
(function () {
  "use strict";
  var adminOrigin = new URL(document.currentScript.src).origin;
  var waiting = {};
  var counter = 0;

  function post(message) {
    window.parent.postMessage(message, adminOrigin);
  }

  function hideInPage(element) {
    // Like App Bridge's own elements: drawn by the admin, never inside the app's page.
    element.style.display = "none";
  }

  // -- modals ---------------------------------------------------------------------------------

  function ownTitleBar(element) {
    return Array.prototype.find.call(element.children, function (child) {
      return child.localName === "ui-title-bar";
    });
  }

  function titleBarButtons(bar) {
    return bar ? Array.prototype.slice.call(bar.querySelectorAll("button")) : [];
  }

  function contentBlocks(element) {
    var blocks = [];
    Array.prototype.forEach.call(element.children, function (child) {
      if (child.localName === "ui-title-bar" || child.localName === "ui-save-bar") {
        return;
      }
      var parts = child.children.length ? child.children : [child];
      Array.prototype.forEach.call(parts, function (part) {
        var text = part.textContent.replace(/\s+/g, " ").trim();
        if (text) {
          blocks.push(text);
        }
      });
    });
    return blocks;
  }

  class UIModal extends HTMLElement {
    connectedCallback() {
      hideInPage(this);
    }

    disconnectedCallback() {
      if (this._open) {
        this.hide();
      }
    }

    get open() {
      return Boolean(this._open);
    }

    show() {
      var bar = ownTitleBar(this);
      this._open = true;
      post({
        type: "tm:modal-show",
        id: this.id,
        variant: this.getAttribute("variant") || "base",
        title: bar ? bar.getAttribute("title") || "" : "",
        content: contentBlocks(this),
        buttons: titleBarButtons(bar).map(function (button) {
          return {
            label: button.textContent.trim(),
            variant: button.getAttribute("variant") || "",
            tone: button.getAttribute("tone") || "",
            disabled: button.disabled,
          };
        }),
      });
      this.dispatchEvent(new Event("show"));
      return Promise.resolve();
    }

    hide() {
      if (this._open) {
        this._open = false;
        post({ type: "tm:modal-hide", id: this.id });
        this.dispatchEvent(new Event("hide"));
      }
      return Promise.resolve();
    }

    toggle() {
      return this._open ? this.hide() : this.show();
    }

    _press(index) {
      var button = titleBarButtons(ownTitleBar(this))[index];
      if (button && !button.disabled) {
        button.click();
      }
    }

    _closedByAdmin() {
      if (this._open) {
        this._open = false;
        this.dispatchEvent(new Event("hide"));
      }
    }
  }

  // -- save bars ------------------------------------------------------------------------------

  var FORM_BAR = "data-save-bar";
  var activeBar = null; // the <ui-save-bar> or the data-save-bar <form> the admin shows

  class UISaveBar extends HTMLElement {
    connectedCallback() {
      hideInPage(this);
    }

    disconnectedCallback() {
      if (this._showing) {
        this.hide();
      }
    }

    get showing() {
      return Boolean(this._showing);
    }

    get discardConfirmation() {
      return this.hasAttribute("discardConfirmation");
    }

    set discardConfirmation(on) {
      this.toggleAttribute("discardConfirmation", Boolean(on));
    }

    show() {
      this._showing = true;
      showBar(this, this.id, this.discardConfirmation);
      this.dispatchEvent(new Event("show"));
      return Promise.resolve();
    }

    hide() {
      if (this._showing) {
        this._showing = false;
        hideBar(this);
        this.dispatchEvent(new Event("hide"));
      }
      return Promise.resolve();
    }

    toggle() {
      return this._showing ? this.hide() : this.show();
    }

    _press(action) {
      var buttons = Array.prototype.slice.call(this.querySelectorAll("button"));
      var button = buttons.find(function (candidate) {
        var primary = candidate.getAttribute("variant") === "primary";
        return action === "save" ? primary : !candidate.hasAttribute("variant");
      });
      if (button && !button.disabled) {
        button.click();
      }
    }
  }

  function showBar(owner, id, discardConfirmation) {
    activeBar = owner;
    post({ type: "tm:save-bar-show", id: id, discardConfirmation: Boolean(discardConfirmation) });
  }

  function hideBar(owner) {
    if (activeBar === owner) {
      activeBar = null;
      post({ type: "tm:save-bar-hide" });
    }
  }

  var baselines = new WeakMap();

  function formState(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      pairs.push([name, typeof value === "string" ? value : value.name + ":" + value.size]);
    });
    return JSON.stringify(pairs);
  }

  function trackForms() {
    document.querySelectorAll("form[" + FORM_BAR + "]").forEach(function (form) {
      if (!baselines.has(form)) {
        baselines.set(form, formState(form));
      }
    });
    if (activeBar && !activeBar.isConnected) {
      hideBar(activeBar);
    }
  }

  function formOf(target) {
    var form = target && (target.form || (target.closest && target.closest("form")));
    return form && form.hasAttribute(FORM_BAR) ? form : null;
  }

  function formChanged(event) {
    var form = formOf(event.target);
    if (!form) {
      return;
    }
    trackForms();
    if (formState(form) !== baselines.get(form)) {
      if (activeBar !== form) {
        showBar(form, FORM_BAR, form.hasAttribute("data-discard-confirmation"));
      }
    } else {
      hideBar(form);
    }
  }

  document.addEventListener("input", formChanged, true);
  document.addEventListener("change", formChanged, true);
  document.addEventListener("submit", function (event) {
    hideBar(event.target);
  }, true);
  document.addEventListener("reset", function (event) {
    hideBar(event.target);
  }, true);

  function pressBar(action) {
    var owner = activeBar;
    if (!owner) {
      return;
    }
    if (owner instanceof UISaveBar) {
      owner._press(action);
    } else if (action === "save") {
      owner.requestSubmit();
    } else {
      owner.reset();
    }
  }

  // -- the admin's side ------------------------------------------------------------------------

  function modalById(id) {
    var element = document.getElementById(String(id));
    if (!element || element.localName !== "ui-modal") {
      return Promise.reject(new Error("no <ui-modal> with id " + id));
    }
    return Promise.resolve(element);
  }

  function saveBarById(id) {
    var element = document.getElementById(String(id));
    if (!element || element.localName !== "ui-save-bar") {
      return Promise.reject(new Error("no <ui-save-bar> with id " + id));
    }
    return Promise.resolve(element);
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
    } else if (data.type === "tm:modal-button") {
      modalById(data.id).then(function (modal) { modal._press(Number(data.index)); }, function () {});
    } else if (data.type === "tm:modal-closed") {
      modalById(data.id).then(function (modal) { modal._closedByAdmin(); }, function () {});
    } else if (data.type === "tm:save-bar-action") {
      pressBar(data.action === "save" ? "save" : "discard");
    }
  });

  var nativeOpen = window.open.bind(window);
  window.open = function (url, target, features) {
    if (target === "_top" || target === "_parent") {
      post({ type: "tm:open", url: new URL(String(url), window.location.href).href });
      return null;
    }
    return nativeOpen(url, target, features);
  };

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
    modal: {
      show: function (id) { return modalById(id).then(function (modal) { return modal.show(); }); },
      hide: function (id) { return modalById(id).then(function (modal) { return modal.hide(); }); },
      toggle: function (id) { return modalById(id).then(function (modal) { return modal.toggle(); }); },
    },
    saveBar: {
      show: function (id) { return saveBarById(id).then(function (bar) { return bar.show(); }); },
      hide: function (id) { return saveBarById(id).then(function (bar) { return bar.hide(); }); },
      toggle: function (id) { return saveBarById(id).then(function (bar) { return bar.toggle(); }); },
      leaveConfirmation: function () {
        return Promise.resolve();
      },
    },
  };

  customElements.define("ui-modal", UIModal);
  customElements.define("ui-save-bar", UISaveBar);

  // -- navigation menu and title bar ----------------------------------------------------------

  function pageTitleBar() {
    return Array.prototype.find.call(document.querySelectorAll("ui-title-bar"), function (bar) {
      return !bar.closest("ui-modal");
    });
  }

  var sent = "";
  function sendMenu() {
    var menu = document.querySelector("ui-nav-menu");
    if (!menu) {
      return;
    }
    hideInPage(menu);
    var items = Array.prototype.map.call(menu.querySelectorAll("a"), function (link) {
      return { label: link.textContent.trim(), path: link.getAttribute("href") };
    });
    var bar = pageTitleBar();
    if (bar) {
      hideInPage(bar);
    }
    var title = bar ? bar.getAttribute("title") : "";
    var message = JSON.stringify({ items: items, current: window.location.pathname, title: title });
    if (message !== sent) {
      sent = message;
      post({ type: "tm:nav-menu", items: items, current: window.location.pathname, title: title });
    }
  }

  function pageChanged() {
    sendMenu();
    trackForms();
  }
  new MutationObserver(pageChanged).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", pageChanged);
})();
