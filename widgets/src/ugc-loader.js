/*
 * Tastemaker UGC loader: defines <tastemaker-ugc> and keeps its reserved height (no layout
 * shift). Until the page has loaded and painted its largest element (the LCP), that style write
 * is all it does: no request, no DOM, no work in the page's rendering tasks. Then, at an idle
 * moment, it puts a skeleton in the reserved box and loads the carousel once the element is
 * near the viewport. The widget never competes with the page's critical resources.
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
  // How long to wait for an idle moment and for an LCP after the page's load; how often to look
  // whether the page has loaded.
  var IDLE_WAIT = 2000;
  var LCP_WAIT = 1000;
  var LOAD_POLL = 50;
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

  function options(host, width) {
    return {
      api: host.getAttribute('api') || new URL(base, window.location.href).origin,
      styles: host.getAttribute('styles') || new URL(STYLES, base).href,
      width: width
    };
  }

  function mountAll() {
    var waiting = state.waiting.splice(0);
    for (var i = 0; i < waiting.length; i++) {
      window.TastemakerUGC.mount(waiting[i].host, options(waiting[i].host, waiting[i].width));
    }
  }

  function request(host, width) {
    if (state.ready) return window.TastemakerUGC.mount(host, options(host, width));
    state.waiting.push({ host: host, width: width });
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

  function idle(then) {
    if (window.requestIdleCallback) window.requestIdleCallback(then, { timeout: IDLE_WAIT });
    else window.setTimeout(then, 1);
  }

  // Calls `seen` with each entry of `type` (buffered: also those from before this script ran);
  // false when the browser cannot observe that type.
  function observe(type, seen) {
    var types = (window.PerformanceObserver && window.PerformanceObserver.supportedEntryTypes) || [];
    if (types.indexOf(type) < 0) return false;
    var observer = new PerformanceObserver(function (list) {
      var entries = list.getEntries();
      for (var i = 0; i < entries.length; i++) {
        if (seen(entries[i])) return observer.disconnect();
      }
    });
    observer.observe({ type: type, buffered: true });
    return true;
  }

  // Resolves at the browser's first idle moment once the page has loaded (its CSS, scripts and
  // images) and painted what it had loaded: an LCP entry from after the load, or LCP_WAIT later
  // when the largest paint was already final before it (or the browser reports none).
  // The load is polled from timers of our own and the LCP observed, each a task of its own: a
  // `load` listener (or a buffered navigation entry, delivered before the load) runs in the task
  // that may also lay out the page for the first time, and a function of ours there makes that
  // layout depend on this script (Lighthouse's simulation then counts the script in the FCP).
  var pageReady = new Promise(function (resolve) {
    var loadedAt = -1;
    var lastPaint = -1;
    var done = false;
    function ready(force) {
      if (done || loadedAt < 0 || !(force || lastPaint >= loadedAt)) return done;
      done = true;
      idle(resolve);
      return true;
    }
    var paints = observe('largest-contentful-paint', function (entry) {
      lastPaint = Math.max(lastPaint, entry.startTime);
      return ready(false);
    });
    if (!paints) lastPaint = Infinity;
    (function loaded() {
      if (document.readyState !== 'complete') return window.setTimeout(loaded, LOAD_POLL);
      var navigation = performance.getEntriesByType ? performance.getEntriesByType('navigation')[0] : null;
      loadedAt = navigation && navigation.loadEventStart > 0 ? navigation.loadEventStart : performance.now();
      window.setTimeout(function () { ready(true); }, LCP_WAIT);
      ready(false);
    })();
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

  // Before the page's LCP the element only keeps its reserved height (a style write: no request,
  // no DOM); the skeleton, the observer and the carousel come after pageReady.
  function start(host) {
    skeleton(host);
    if (!('IntersectionObserver' in window)) return request(host, 0);
    var observer = new IntersectionObserver(
      function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (entries[i].isIntersecting) {
            observer.disconnect();
            // The observer measured the box: the carousel need not ask for a layout.
            request(host, entries[i].boundingClientRect.width);
            return;
          }
        }
      },
      { rootMargin: MARGIN }
    );
    observer.observe(host);
  }

  class TastemakerUgc extends HTMLElement {
    connectedCallback() {
      if (this._tastemaker) return;
      this._tastemaker = true;
      // CSSOM writes are allowed under a strict style-src, unlike style attributes.
      this.style.display = 'block';
      if (!this.style.height) this.style.height = HEIGHT;
      var host = this;
      pageReady.then(function () {
        start(host);
      });
    }
  }

  window.customElements.define(TAG, TastemakerUgc);
})();
