/*
 * Tastemaker shoppable UGC carousel, mounted by ugc-loader.js into <tastemaker-ugc>.
 *
 * Safe by construction: every text goes in with textContent, every URL is checked (https on an
 * allowed media host, or the Tastemaker origin; links https or same-origin paths), no markup
 * parsing, no eval, no inline styles or handlers: it runs under a strict Content-Security-Policy.
 */
(function () {
  'use strict';

  var NS = (window.TastemakerUGC = window.TastemakerUGC || {});
  if (NS.mount) return;

  var MEDIA_HOSTS = [
    'cdn.shopify.com',
    '.cdninstagram.com',
    '.fbcdn.net',
    '.tiktokcdn.com',
    '.tiktokcdn-us.com',
    'i.ytimg.com'
  ];
  // ugc-carousel.css, minified, put here by the build (plugin/widget_bundle.py); unbuilt, the
  // placeholder stays and the stylesheet is fetched by <link> instead.
  var CSS = '__TASTEMAKER_CSS__';
  var CARD_WIDTH = 220; // px, as in ugc-carousel.css
  var CARD_GAP = 16;
  var MAX_ITEMS = 24;
  var motion = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function hostAllowed(host, list) {
    for (var i = 0; i < list.length; i++) {
      var entry = list[i];
      var suffix = entry.charAt(0) === '.';
      if (suffix ? host.length > entry.length && host.slice(-entry.length) === entry : host === entry) {
        return true;
      }
    }
    return false;
  }

  function parse(raw, base) {
    if (typeof raw !== 'string' || !raw || /[\u0000-\u0020\u007f\\]/.test(raw)) return null;
    try {
      var url = new URL(raw, base);
      return url.username || url.password ? null : url;
    } catch (error) {
      return null;
    }
  }

  // Images: the Tastemaker origin itself, or https on an allowed host.
  function mediaUrl(raw, apiOrigin) {
    var url = parse(raw);
    if (!url) return null;
    if (url.origin === apiOrigin) return url.href;
    return url.protocol === 'https:' && hostAllowed(url.hostname, MEDIA_HOSTS) ? url.href : null;
  }

  // Links: https anywhere, or a path on this store.
  function linkUrl(raw) {
    if (typeof raw === 'string' && raw.charAt(0) === '/' && raw.charAt(1) !== '/') {
      var local = parse(raw, window.location.href);
      return local && local.origin === window.location.origin ? local.href : null;
    }
    var url = parse(raw);
    return url && url.protocol === 'https:' ? url.href : null;
  }

  // One formatter per currency: building an Intl.NumberFormat costs far more than using one.
  var formats = {};

  function price(minor, currency) {
    try {
      var format = formats[currency];
      if (!format) {
        format = formats[currency] = new Intl.NumberFormat(document.documentElement.lang || undefined, {
          style: 'currency',
          currency: currency
        });
        format.digits = format.resolvedOptions().maximumFractionDigits;
      }
      return format.format(minor / Math.pow(10, format.digits));
    } catch (error) {
      return '';
    }
  }

  function Carousel(host, options) {
    this.host = host;
    this.api = String(options.api || '').replace(/\/+$/, '');
    this.apiOrigin = (parse(this.api) || { origin: '' }).origin;
    this.shop = host.getAttribute('shop') || '';
    this.product = host.getAttribute('product') || '';
    this.heading = host.getAttribute('heading') || 'As seen on you';
    this.max = Math.min(Math.max(parseInt(host.getAttribute('max'), 10) || 12, 1), MAX_ITEMS);
    // The box's width as the loader's IntersectionObserver measured it (reading clientWidth
    // here would force a layout); else the screen's, an upper bound.
    this.width = Number(options.width) || window.screen.width || 1024;
    this.index = 0;
    this.seen = {};
    this.queue = [];
    this.flushTimer = 0;
    // The loader may have put a skeleton in the shadow root already; render replaces it.
    this.root = host.shadowRoot || host.attachShadow({ mode: 'open' });
  }

  // A constructed stylesheet from the inlined CSS: no request to wait for, nothing that blocks
  // the page's rendering, and allowed under a strict style-src. Else a <link> (older browsers).
  Carousel.prototype.style = function (stylesUrl) {
    if (CSS.charAt(0) !== '_' && this.root.adoptedStyleSheets !== undefined) {
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        this.styles = [sheet];
        return Promise.resolve();
      } catch (error) {
        // fall through to the stylesheet file
      }
    }
    var link = el('link');
    link.rel = 'stylesheet';
    link.href = stylesUrl;
    this.styleLink = link;
    var loaded = new Promise(function (resolve) {
      link.onload = link.onerror = resolve;
    });
    this.root.appendChild(link);
    return loaded;
  };

  // Replaces the skeleton (or anything before) with `content`, styled.
  Carousel.prototype.show = function (content) {
    if (this.styles) this.root.adoptedStyleSheets = this.styles;
    var nodes = this.styleLink ? [this.styleLink] : [];
    if (content) nodes.push(content);
    this.root.replaceChildren.apply(this.root, nodes);
  };

  Carousel.prototype.start = function (stylesUrl) {
    var self = this;
    var styled = this.style(stylesUrl);
    var url =
      this.api + '/storefront/' + encodeURIComponent(this.shop) + '/ugc?limit=' + this.max +
      (this.product ? '&product=' + encodeURIComponent(this.product) : '');
    // The HTTP cache decides: the feed is fresh for a short max-age, then revalidated in the
    // background (stale-while-revalidate), so most page views need no request at all. Low
    // priority: fetch() is high by default, ahead of the page's own late requests.
    var data = fetch(url, { credentials: 'omit', priority: 'low' })
      .then(function (response) {
        return response.ok ? response.json() : { posts: [] };
      })
      .catch(function () {
        return { posts: [] };
      });
    Promise.all([data, styled]).then(function (results) {
      var posts = results[0] && Array.isArray(results[0].posts) ? results[0].posts : [];
      self.tag = results[0] && results[0].try_and_tag;
      self.render(posts.slice(0, self.max));
    });
  };

  // Which posts can be shown is decided first (the slide labels count them); each slide's DOM
  // is built as it is appended, the ones in view first.
  Carousel.prototype.render = function (posts) {
    var usable = [];
    for (var i = 0; i < posts.length; i++) {
      if (posts[i] && typeof posts[i] === 'object' && this.sources(posts[i]).length) usable.push(posts[i]);
    }
    if (!usable.length) return this.empty();
    var section = el('section', 'tm');
    section.setAttribute('aria-roledescription', 'carousel');
    section.setAttribute('aria-label', this.heading);
    var head = el('div', 'head');
    head.appendChild(el('h2', 'title', this.heading));
    var nav = el('div', 'nav');
    this.prev = this.button('prev', '\u2039', 'Previous posts');
    this.next = this.button('next', '\u203a', 'Next posts');
    nav.appendChild(this.prev);
    nav.appendChild(this.next);
    if (/^https?:\/\//.test(this.tag || '')) {
      // The shop's Try & Tag page, in the head row: the carousel's fixed height is unchanged.
      // A shorter label when the row is narrow (ugc-carousel.css), so the heading keeps its room.
      var tag = el('a', 'tag');
      tag.appendChild(el('span', 'long', 'Post yours, get a reward'));
      tag.appendChild(el('span', 'short', 'Get a reward'));
      tag.href = this.tag;
      head.appendChild(tag);
    }
    head.appendChild(nav);
    this.track = el('ul', 'track');
    this.track.id = 'tm-track';
    this.prev.setAttribute('aria-controls', 'tm-track');
    this.next.setAttribute('aria-controls', 'tm-track');
    this.posts = usable;
    this.slides = [];
    this.status = el('p', 'status');
    this.status.setAttribute('role', 'status');
    section.appendChild(head);
    section.appendChild(this.track);
    section.appendChild(this.status);
    // The slides in view first, the rest a few per task: no long task on the page's main
    // thread (Total Blocking Time), whatever the number of posts.
    var inView = Math.ceil(this.width / (CARD_WIDTH + CARD_GAP)) + 1;
    this.append(0, Math.max(2, inView));
    this.show(section);
    this.wire();
    var self = this;
    var next = Math.max(2, inView);
    (function more() {
      if (next >= usable.length) {
        section.setAttribute('data-complete', '');
        return self.updateButtonsSoon();
      }
      self.append(next, next + 4);
      next += 4;
      window.setTimeout(more, 0);
    })();
  };

  Carousel.prototype.append = function (from, to) {
    var end = Math.min(to, this.posts.length);
    for (var i = from; i < end; i++) {
      var slide = this.slide(this.posts[i]);
      slide.setAttribute('aria-label', i + 1 + ' of ' + this.posts.length);
      slide.tabIndex = i === this.index ? 0 : -1;
      this.slides.push(slide);
      this.track.appendChild(slide);
      if (this.impressions) this.impressions.observe(slide);
    }
  };

  Carousel.prototype.button = function (className, symbol, label) {
    var button = el('button', className, symbol);
    button.type = 'button';
    button.setAttribute('aria-label', label);
    return button;
  };

  // The post's media files that may be shown (allowed URL, known width).
  Carousel.prototype.sources = function (post) {
    var sources = [];
    var list = post.media && Array.isArray(post.media.sources) ? post.media.sources : [];
    for (var i = 0; i < list.length; i++) {
      var src = mediaUrl(list[i] && list[i].url, this.apiOrigin);
      var width = Number(list[i] && list[i].width);
      if (src && width > 0) sources.push({ url: src, width: Math.round(width) });
    }
    return sources;
  };

  Carousel.prototype.slide = function (post) {
    var sources = this.sources(post);
    var slide = el('li', 'slide');
    slide.setAttribute('role', 'group');
    slide.setAttribute('aria-roledescription', 'slide');
    slide.dataset.post = String(post.id);
    var href = linkUrl(post.url);
    var media = el(href ? 'a' : 'div', 'media');
    if (href) {
      media.href = href;
      media.target = '_blank';
      media.rel = 'noopener noreferrer nofollow';
      media.dataset.action = 'click';
    }
    var img = el('img');
    img.alt = String(post.alt || '');
    img.width = Number(post.media.width) || CARD_WIDTH;
    img.height = Number(post.media.height) || CARD_WIDTH;
    img.loading = 'lazy';
    img.decoding = 'async';
    img.setAttribute('fetchpriority', 'low');
    // Below 2x screens, declare a slightly narrower slot, so that a 1.5x-1.75x phone takes the
    // 320w file (a 220 px card needs 385 px there) instead of the 640w one, at 2-3x the bytes.
    img.sizes = '(min-resolution: 2dppx) ' + CARD_WIDTH + 'px, ' + Math.floor(320 / 1.75) + 'px';
    img.srcset = sources.map(function (s) { return s.url + ' ' + s.width + 'w'; }).join(', ');
    img.src = sources[0].url;
    media.appendChild(img);
    if (post.media.type === 'video') media.appendChild(el('span', 'play', '\u25b6'));
    slide.appendChild(media);
    var body = el('div', 'body');
    var who = el('p', 'who');
    who.appendChild(el('span', 'handle', '@' + String(post.author || '')));
    if (post.disclosure) who.appendChild(el('span', 'disc', post.disclosure));
    body.appendChild(who);
    body.appendChild(el('p', 'caption', post.caption || ''));
    var product = Array.isArray(post.products) ? post.products[0] : null;
    if (product && product.variant_id) body.appendChild(this.shoppable(product));
    slide.appendChild(body);
    return slide;
  };

  Carousel.prototype.shoppable = function (product) {
    var box = el('div', 'shop');
    var line = el('p', 'product');
    var href = linkUrl(product.url);
    var name = el(href ? 'a' : 'span', 'ptitle', product.title || '');
    if (href) {
      name.href = href;
      name.dataset.action = 'click';
    }
    line.appendChild(name);
    line.appendChild(el('span', 'price', price(Number(product.price_minor), product.currency)));
    box.appendChild(line);
    var add = el('button', 'add', 'Add to cart');
    add.type = 'button';
    add.setAttribute('aria-label', 'Add ' + (product.title || 'product') + ' to cart');
    add.dataset.variant = String(product.variant_id);
    add.dataset.title = String(product.title || '');
    box.appendChild(add);
    return box;
  };

  Carousel.prototype.wire = function () {
    var self = this;
    this.prev.addEventListener('click', function () { self.go(self.index - self.perPage()); });
    this.next.addEventListener('click', function () { self.go(self.index + self.perPage()); });
    this.track.addEventListener('keydown', function (event) {
      var moves = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };
      if (!(event.key in moves) || event.target.className !== 'slide') return;
      event.preventDefault();
      self.go(self.index + moves[event.key], true);
    });
    this.track.addEventListener('click', function (event) {
      var target = event.target.closest('[data-action], .add');
      if (!target) return;
      var slide = target.closest('.slide');
      if (target.classList.contains('add')) return self.addToCart(target, slide);
      self.record('click', slide);
    });
    var pending = false;
    this.track.addEventListener(
      'scroll',
      function () {
        if (pending) return;
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          self.updateButtons();
        });
      },
      { passive: true }
    );
    // At the start the track is scrolled to its beginning; whether it can scroll further is
    // known once the frame has laid it out.
    this.prev.disabled = true;
    this.updateButtonsSoon();
    this.observeImpressions();
  };

  Carousel.prototype.perPage = function () {
    return Math.max(1, Math.floor((this.track.clientWidth + CARD_GAP) / (CARD_WIDTH + CARD_GAP)));
  };

  Carousel.prototype.go = function (index, focus) {
    var last = this.slides.length - 1;
    this.index = Math.min(Math.max(index, 0), last);
    for (var i = 0; i <= last; i++) this.slides[i].tabIndex = i === this.index ? 0 : -1;
    var slide = this.slides[this.index];
    var smooth = !(motion && motion.matches);
    var left = slide.offsetLeft - this.slides[0].offsetLeft;
    this.track.scrollTo({ left: left, behavior: smooth ? 'smooth' : 'auto' });
    if (focus) slide.focus({ preventScroll: true });
  };

  // Reading scroll sizes right after a DOM change forces a layout inside our task; after the
  // next frame the layout is done and the read is free.
  Carousel.prototype.updateButtonsSoon = function () {
    var self = this;
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        self.updateButtons();
      }, 0);
    });
  };

  Carousel.prototype.updateButtons = function () {
    var track = this.track;
    this.prev.disabled = track.scrollLeft <= 1;
    this.next.disabled = track.scrollLeft + track.clientWidth >= track.scrollWidth - 1;
  };

  Carousel.prototype.empty = function () {
    this.show(null);
    // Collapse only while off screen: shrinking in view would shift the page (CLS).
    var box = this.host.getBoundingClientRect();
    if (box.bottom < 0 || box.top > window.innerHeight) this.host.style.display = 'none';
  };

  // Cart ---------------------------------------------------------------------------------

  Carousel.prototype.cartRequest = function (variant) {
    // WooCommerce pages carry wc_add_to_cart_params; the attribute wins when present.
    var detected = window.wc_add_to_cart_params ? 'woocommerce' : 'shopify';
    var platform = this.host.getAttribute('platform') || detected;
    if (platform === 'woocommerce') {
      var params = window.wc_add_to_cart_params;
      var endpoint =
        params && typeof params.wc_ajax_url === 'string'
          ? params.wc_ajax_url.replace('%%endpoint%%', 'add_to_cart')
          : '/?wc-ajax=add_to_cart';
      var form = new URLSearchParams();
      form.set('product_id', variant);
      form.set('quantity', '1');
      return fetch(endpoint, { method: 'POST', credentials: 'same-origin', body: form });
    }
    var shopify = window.Shopify && window.Shopify.routes && window.Shopify.routes.root;
    var root = this.host.getAttribute('cart-root') || shopify || '/';
    if (root.charAt(0) !== '/' || root.charAt(1) === '/') root = '/';
    if (root.slice(-1) !== '/') root += '/';
    var id = /^\d{1,15}$/.test(variant) ? Number(variant) : variant;
    return fetch(root + 'cart/add.js', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ items: [{ id: id, quantity: 1 }] })
    });
  };

  Carousel.prototype.addToCart = function (button, slide) {
    var self = this;
    var title = button.dataset.title;
    button.disabled = true;
    this.record('add_to_cart', slide);
    this.cartRequest(button.dataset.variant)
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(new Error(String(response.status)));
      })
      .then(function (result) {
        if (result && result.error) throw new Error('cart refused');
        button.textContent = 'Added \u2713';
        self.status.textContent = 'Added to cart: ' + title;
        self.host.dispatchEvent(
          new CustomEvent('tastemaker:added-to-cart', {
            bubbles: true,
            composed: true,
            detail: { variantId: button.dataset.variant }
          })
        );
      })
      .catch(function () {
        self.status.textContent = 'Sorry, ' + title + ' could not be added to the cart.';
      })
      .then(function () {
        button.disabled = false;
      });
  };

  // Impressions and clicks -----------------------------------------------------------------

  Carousel.prototype.observeImpressions = function () {
    var self = this;
    if (!('IntersectionObserver' in window)) return;
    var observer = new IntersectionObserver(
      function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (!entries[i].isIntersecting) continue;
          observer.unobserve(entries[i].target);
          self.record('impression', entries[i].target);
        }
      },
      { threshold: 0.5 }
    );
    // Slides appended later are observed as they come (append).
    this.impressions = observer;
    for (var i = 0; i < this.slides.length; i++) observer.observe(this.slides[i]);
    var flush = function () { self.flush(); };
    window.addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') flush();
    });
  };

  Carousel.prototype.record = function (type, slide) {
    var post = slide ? Number(slide.dataset.post) : 0;
    if (!post) return;
    if (type === 'impression') {
      if (this.seen[post]) return;
      this.seen[post] = true;
    }
    var event = { post: post, type: type };
    if (this.product) event.product = this.product;
    this.queue.push(event);
    var self = this;
    if (type !== 'impression') return this.flush();
    if (!this.flushTimer) this.flushTimer = window.setTimeout(function () { self.flush(); }, 1000);
  };

  Carousel.prototype.flush = function () {
    window.clearTimeout(this.flushTimer);
    this.flushTimer = 0;
    if (!this.queue.length) return;
    var events = this.queue.splice(0, 50);
    var url = this.api + '/storefront/' + encodeURIComponent(this.shop) + '/events';
    // A string body is sent as text/plain: no CORS preflight, and it survives page unload.
    var body = JSON.stringify({ events: events });
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      var init = { method: 'POST', body: body, keepalive: true, credentials: 'omit' };
      fetch(url, init).catch(function () {});
    }
    if (this.queue.length) this.flush();
  };

  NS.mount = function (host, options) {
    if (host._tastemakerMounted) return;
    host._tastemakerMounted = true;
    var carousel = new Carousel(host, options || {});
    if (!carousel.shop || !carousel.api) return;
    carousel.start(options.styles);
  };
})();
