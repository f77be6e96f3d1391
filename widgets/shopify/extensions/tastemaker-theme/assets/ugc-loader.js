/*
 * Tastemaker UGC loader: defines <tastemaker-ugc>, reserves its height at once (no layout
 * shift), and loads the carousel script only when the element comes near the viewport.
 *
 *   <script src="https://APP/widgets/ugc-loader.js" defer></script>
 *   <tastemaker-ugc shop="PUBLIC_KEY" product="PRODUCT_ID"></tastemaker-ugc>
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

  if (!window.customElements || window.customElements.get(TAG)) return;

  var current = document.currentScript;
  var base = current && current.src ? current.src : window.location.href;
  var version = new URL(base, window.location.href).searchParams.get('v');
  var state = { requested: false, ready: false, waiting: [] };

  // Pages enforcing Trusted Types may allow this policy by name ("trusted-types tastemaker").
  var policy = null;
  try {
    if (window.trustedTypes && window.trustedTypes.createPolicy) {
      policy = window.trustedTypes.createPolicy('tastemaker', {
        createScriptURL: function (url) {
          var parsed = new URL(url, window.location.href);
          if (!/\/ugc-carousel\.js$/.test(parsed.pathname)) throw new TypeError('not a widget');
          return parsed.href;
        }
      });
    }
  } catch (error) {
    policy = null; // the page's CSP does not allow our policy; plain URLs may still work
  }

  function sibling(name) {
    var url = new URL(name, base);
    if (version) url.searchParams.set('v', version);
    return url.href;
  }

  function options(host) {
    return {
      api: host.getAttribute('api') || new URL(base, window.location.href).origin,
      styles: host.getAttribute('styles') || sibling('ugc-carousel.css')
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
    var src = host.getAttribute('script') || sibling('ugc-carousel.js');
    script.src = policy ? policy.createScriptURL(src) : src;
    script.async = true;
    script.onload = function () {
      state.ready = true;
      mountAll();
    };
    document.head.appendChild(script);
  }

  class TastemakerUgc extends HTMLElement {
    connectedCallback() {
      if (this._tastemaker) return;
      this._tastemaker = true;
      // CSSOM writes are allowed under a strict style-src, unlike style attributes.
      this.style.display = 'block';
      if (!this.style.height) this.style.height = HEIGHT;
      if (!('IntersectionObserver' in window)) return request(this);
      var host = this;
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
      observer.observe(this);
    }
  }

  window.customElements.define(TAG, TastemakerUgc);
})();
