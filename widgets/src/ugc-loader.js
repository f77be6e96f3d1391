/*
 * Tastemaker UGC loader: defines <tastemaker-ugc>, reserves its height at once (no layout
 * shift) with a skeleton in the reserved box, and loads the carousel only once the page itself
 * has loaded (its CSS, fonts and hero image: the LCP) and the browser is idle, and only when the
 * element is near the viewport. The widget never competes with the page's critical resources.
 *
 *   <script src="https://APP/widgets/ugc-loader.js" async></script>
 *   <tastemaker-ugc shop="PUBLIC_KEY" product="PRODUCT_ID"></tastemaker-ugc>
 *
 * `async` (not `defer`): the loader never holds back DOMContentLoaded; elements already in the
 * page are upgraded whenever it runs.
 *
 * Optional attributes: api (Tastemaker origin; defaults to this script's origin), platform
 * (shopify | woocommerce), cart-root, heading, max, script and styles (URLs of the carousel
 * files when they are not next to this loader, e.g. Shopify theme assets).
 */
(function () {
  'use strict';

  var TAG = 'tastemaker-ugc';
  // Must match :host { height } in ugc-carousel.css; pages should reserve it too (README).
  var HEIGHT = '532px';
  // Start loading a little before the element scrolls into view.
  var MARGIN = '400px 0px';
  // The build (plugin/widget_bundle.py) puts the content-hashed file names here.
  var CAROUSEL = 'ugc-carousel.js';
  var STYLES = 'ugc-carousel.css';
  // Grey cards in the reserved box until the carousel renders (sizes as in ugc-carousel.css).
  var SKELETON =
    ':host{display:block}.sk{display:flex;gap:16px;height:100%;overflow:hidden;padding:56px 4px 4px}' +
    '.sk i{flex:0 0 220px;height:440px;border-radius:12px;background:#f2f2f4}';

  if (!window.customElements || window.customElements.get(TAG)) return;

  var current = document.currentScript;
  var base = current && current.src ? current.src : window.location.href;
  var state = { requested: false, ready: false, waiting: [] };

  // Pages enforcing Trusted Types may allow this policy by name ("trusted-types tastemaker").
  var policy = null;
  try {
    if (window.trustedTypes && window.trustedTypes.createPolicy) {
      policy = window.trustedTypes.createPolicy('tastemaker', {
        createScriptURL: function (url) {
          var parsed = new URL(url, window.location.href);
          if (!/\/ugc-carousel(\.[0-9a-f]{10})?\.js$/.test(parsed.pathname)) {
            throw new TypeError('not a widget');
          }
          return parsed.href;
        }
      });
    }
  } catch (error) {
    policy = null; // the page's CSP does not allow our policy; plain URLs may still work
  }

  function options(host) {
    return {
      api: host.getAttribute('api') || new URL(base, window.location.href).origin,
      styles: host.getAttribute('styles') || new URL(STYLES, base).href
    };
  }

  function mountAll() {
    var hosts = state.waiting.splice(0);
    for (var i = 0; i < hosts.length; i++) window.TastemakerUGC.mount(hosts[i], options(hosts[i]));
  }

  function request(host) {
    if (state.ready) return window.TastemakerUGC.mount(host, options(host));
    state.waiting.push(host);
    if (state.requested) return;
    state.requested = true;
    var script = document.createElement('script');
    var src = host.getAttribute('script') || new URL(CAROUSEL, base).href;
    script.src = policy ? policy.createScriptURL(src) : src;
    script.async = true;
    script.onload = function () {
      state.ready = true;
      mountAll();
    };
    document.head.appendChild(script);
  }

  // After the page's `load` (its own CSS, scripts and images, the LCP image among them) and
  // then the next idle moment, so the widget's requests and work never delay the page's.
  var afterLoad = new Promise(function (resolve) {
    function idle() {
      if (window.requestIdleCallback) window.requestIdleCallback(resolve, { timeout: 2000 });
      else window.setTimeout(resolve, 1);
    }
    if (document.readyState === 'complete') idle();
    else window.addEventListener('load', idle, { once: true });
  });

  function skeleton(host) {
    if (host.shadowRoot || !host.attachShadow) return;
    var root = host.attachShadow({ mode: 'open' });
    // A constructed stylesheet: no request, and allowed under a strict style-src.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(SKELETON);
      root.adoptedStyleSheets = [sheet];
    } catch (error) {
      return; // no constructed stylesheets: the reserved box stays empty
    }
    var box = document.createElement('div');
    box.className = 'sk';
    box.setAttribute('aria-hidden', 'true');
    for (var i = 0; i < 4; i++) box.appendChild(document.createElement('i'));
    root.appendChild(box);
  }

  class TastemakerUgc extends HTMLElement {
    connectedCallback() {
      if (this._tastemaker) return;
      this._tastemaker = true;
      // CSSOM writes are allowed under a strict style-src, unlike style attributes.
      this.style.display = 'block';
      if (!this.style.height) this.style.height = HEIGHT;
      skeleton(this);
      var host = this;
      afterLoad.then(function () {
        if (!('IntersectionObserver' in window)) return request(host);
        var observer = new IntersectionObserver(
          function (entries) {
            for (var i = 0; i < entries.length; i++) {
              if (entries[i].isIntersecting) {
                observer.disconnect();
                request(host);
                return;
              }
            }
          },
          { rootMargin: MARGIN }
        );
        observer.observe(host);
      });
    }
  }

  window.customElements.define(TAG, TastemakerUgc);
})();
