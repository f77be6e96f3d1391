<?php
/**
 * Plugin Name:          Tastemaker
 * Plugin URI:           https://github.com/tastemaker/tastemaker
 * Description:          Creator referral links, creator coupons and shoppable creator content for WooCommerce, connected to your Tastemaker app.
 * Version:              0.1.0
 * Requires at least:    6.3
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * WC requires at least: 8.0
 * Author:               Tastemaker
 * License:              MIT
 * Text Domain:          tastemaker
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

define( 'TASTEMAKER_VERSION', '0.1.0' );
define( 'TASTEMAKER_FILE', __FILE__ );
define( 'TASTEMAKER_DIR', plugin_dir_path( __FILE__ ) );

require_once TASTEMAKER_DIR . 'includes/class-tastemaker-settings.php';
require_once TASTEMAKER_DIR . 'includes/class-tastemaker-attribution.php';
require_once TASTEMAKER_DIR . 'includes/class-tastemaker-ugc.php';
require_once TASTEMAKER_DIR . 'includes/class-tastemaker-admin-login.php';
require_once TASTEMAKER_DIR . 'includes/class-tastemaker-api-keys.php';

Tastemaker_Settings::init();
Tastemaker_Attribution::init();
Tastemaker_Ugc::init();
Tastemaker_Admin_Login::init();
Tastemaker_Api_Keys::init();

// The plugin only touches orders through WC_Order methods, so it works with both order stores
// (HPOS and posts) and with the block checkout.
add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', TASTEMAKER_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', TASTEMAKER_FILE, true );
		}
	}
);
