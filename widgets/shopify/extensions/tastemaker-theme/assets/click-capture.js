/*
 * Tastemaker click capture for Shopify storefronts (app embed, loaded deferred).
 *
 * A referral link lands the shopper on the store with ?tm_click=<32 hex>. This keeps the last
 * few click ids (oldest first) in a first-party cookie and mirrors them into the cart attribute
 * `tm_click` through the Ajax Cart API, so checkout copies them into the order's
 * note_attributes. The cart is written only when its value or the cart itself changed.
 * Without marketing consent (Shopify Customer Privacy API) nothing is stored on the device; the
 * current visit's click still reaches the cart.
 */
(function () {
  'use strict';

  var PARAM = 'tm_click';
  var COOKIE = 'tm_click';
  var SYNCED = 'tm_click_synced';
  var MAX_IDS = 3;
  var CLICK_ID = /^[0-9a-f]{32}$/;

  function settingDays() {
    var node = document.getElementById('tastemaker-click-capture');
    var days = parseInt(node && node.getAttribute('data-days'), 10);
    return days >= 1 && days <= 365 ? days : 30;
  }

  function consentAllowsStorage() {
    var privacy = window.Shopify && window.Shopify.customerPrivacy;
    if (!privacy || typeof privacy.marketingAllowed !== 'function') {
      return true;
    }
    try {
      return privacy.marketingAllowed() !== false;
    } catch (error) {
      return false;
    }
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i += 1) {
      var index = parts[i].indexOf('=');
      if (parts[i].slice(0, index) === name) {
        try {
          return decodeURIComponent(parts[i].slice(index + 1));
        } catch (error) {
          return '';
        }
      }
    }
    return '';
  }

  function validIds(value) {
    return (value || '').split(',').filter(function (id) {
      return CLICK_ID.test(id);
    });
  }

  function remember(ids, days) {
    var secure = window.location.protocol === 'https:' ? '; Secure' : '';
    document.cookie =
      COOKIE + '=' + encodeURIComponent(ids.join(',')) + '; Max-Age=' + days * 86400 +
      '; Path=/; SameSite=Lax' + secure;
  }

  function landingId() {
    var value = new URLSearchParams(window.location.search).get(PARAM);
    return value && CLICK_ID.test(value) ? value : null;
  }

  function cartRoot() {
    var routes = window.Shopify && window.Shopify.routes;
    var root = (routes && routes.root) || '/';
    return root.charAt(root.length - 1) === '/' ? root : root + '/';
  }

  function syncCart(value) {
    var marker = value + '|' + readCookie('cart');
    try {
      if (window.sessionStorage.getItem(SYNCED) === marker) {
        return;
      }
    } catch (error) {
      // Storage blocked: write every time rather than never.
    }
    window
      .fetch(cartRoot() + 'cart/update.js', {
        method: 'POST',
        credentials: 'same-origin',
        keepalive: true,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ attributes: { tm_click: value } })
      })
      .then(function (response) {
        if (response.ok) {
          try {
            window.sessionStorage.setItem(SYNCED, value + '|' + readCookie('cart'));
          } catch (error) {
            // Nothing to remember with: the next page writes again.
          }
        }
      })
      .catch(function () {
        // Offline or blocked: the next page view tries again.
      });
  }

  function run() {
    var storable = consentAllowsStorage();
    var ids = storable ? validIds(readCookie(COOKIE)) : [];
    var fresh = landingId();
    if (fresh && ids[ids.length - 1] !== fresh) {
      ids = ids.filter(function (id) { return id !== fresh; }).concat(fresh).slice(-MAX_IDS);
      if (storable) {
        remember(ids, settingDays());
      }
    }
    if (ids.length) {
      syncCart(ids.join(','));
    }
  }

  if (document.readyState === 'complete') {
    run();
  } else {
    window.addEventListener('load', run);
  }
})();
