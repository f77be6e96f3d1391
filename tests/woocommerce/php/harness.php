<?php
/**
 * Runs the companion plugin under minimal WordPress/WooCommerce stand-ins and prints what it did
 * as JSON. Usage: php harness.php <scenario> (see test_companion_plugin.py).
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'DAY_IN_SECONDS', 86400 );
define( 'COOKIEPATH', '/' );
define( 'COOKIE_DOMAIN', '' );

$GLOBALS['tm'] = array(
	'actions'    => array(),
	'shortcodes' => array(),
	'options'    => array(),
	'registered' => array(),
	'enqueued'   => array(),
	'blocks'     => array(),
	'cookies'    => array(),
	'is_product' => false,
	'post_id'    => 0,
);

function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['tm']['actions'][ $hook ][] = $callback;
}
function do_action( $hook, ...$args ) {
	foreach ( $GLOBALS['tm']['actions'][ $hook ] ?? array() as $callback ) {
		call_user_func_array( $callback, $args );
	}
}
function add_shortcode( $tag, $callback ) {
	$GLOBALS['tm']['shortcodes'][ $tag ] = $callback;
}
function shortcode_atts( $pairs, $atts, $shortcode = '' ) {
	$atts = (array) $atts;
	$out  = array();
	foreach ( $pairs as $name => $default ) {
		$out[ $name ] = array_key_exists( $name, $atts ) ? $atts[ $name ] : $default;
	}
	return $out;
}
function get_option( $name, $default = false ) {
	return $GLOBALS['tm']['options'][ $name ] ?? $default;
}
function apply_filters( $hook, $value ) {
	return $value;
}
function plugin_dir_path( $file ) {
	return dirname( $file ) . '/';
}
function untrailingslashit( $value ) {
	return rtrim( $value, '/\\' );
}
function wp_unslash( $value ) {
	return is_string( $value ) ? stripslashes( $value ) : $value;
}
function esc_attr( $value ) {
	return htmlspecialchars( (string) $value, ENT_QUOTES, 'UTF-8' );
}
function absint( $value ) {
	return abs( (int) $value );
}
function is_ssl() {
	return true;
}
function wp_register_script( $handle, $src, $deps, $ver, $args ) {
	$GLOBALS['tm']['registered'][ $handle ] = array( 'src' => $src, 'args' => $args );
}
function wp_script_is( $handle, $status ) {
	return isset( $GLOBALS['tm']['registered'][ $handle ] );
}
function wp_enqueue_script( $handle ) {
	$GLOBALS['tm']['enqueued'][] = $handle;
}
function register_block_type( $path ) {
	$GLOBALS['tm']['blocks'][] = json_decode( file_get_contents( $path . '/block.json' ), true )['name'];
}
function get_block_wrapper_attributes() {
	return 'class="wp-block-tastemaker-ugc"';
}
function is_product() {
	return $GLOBALS['tm']['is_product'];
}
function get_the_ID() {
	return $GLOBALS['tm']['post_id'];
}
function wc_format_coupon_code( $value ) {
	return strtolower( trim( html_entity_decode( (string) $value ) ) );
}

class WC_Order {
	public $meta = array();
	public function update_meta_data( $key, $value ) {
		$this->meta[ $key ] = $value;
	}
}
class Fake_Session {
	public $data = array();
	public $cookie = false;
	public function has_session() {
		return $this->cookie;
	}
	public function set_customer_session_cookie( $set ) {
		$this->cookie = $set;
	}
	public function get( $key ) {
		return $this->data[ $key ] ?? null;
	}
	public function set( $key, $value ) {
		$this->data[ $key ] = $value;
	}
}
class Fake_Cart {
	public $items = 0;
	public $applied = array();
	public function is_empty() {
		return 0 === $this->items;
	}
	public function has_discount( $code ) {
		return in_array( $code, $this->applied, true );
	}
	public function apply_coupon( $code ) {
		$this->applied[] = $code;
		return true;
	}
}
class Fake_WC {
	public $session;
	public $cart;
}
$GLOBALS['wc'] = new Fake_WC();
$GLOBALS['wc']->session = new Fake_Session();
$GLOBALS['wc']->cart = new Fake_Cart();
function WC() {
	return $GLOBALS['wc'];
}

$scenario = $argv[1] ?? '';
$input    = json_decode( $argv[2] ?? '{}', true );
$GLOBALS['tm']['options']['tastemaker_settings'] = $input['settings'] ?? array();
$_GET = $input['get'] ?? array();
$_COOKIE = $input['cookies'] ?? array();
$GLOBALS['tm']['is_product'] = $input['is_product'] ?? false;
$GLOBALS['tm']['post_id'] = $input['post_id'] ?? 0;

require dirname( __DIR__, 3 ) . '/widgets/woocommerce/tastemaker/tastemaker.php';
do_action( 'init' );
$result = array( 'enqueued_before' => $GLOBALS['tm']['enqueued'] );

if ( 'shortcode' === $scenario ) {
	$result['html'] = call_user_func( $GLOBALS['tm']['shortcodes']['tastemaker_ugc'], $input['atts'] ?? '' );
} elseif ( 'block' === $scenario ) {
	$attributes = $input['attributes'] ?? array();
	ob_start();
	require dirname( __DIR__, 3 ) . '/widgets/woocommerce/tastemaker/blocks/ugc/render.php';
	$result['html'] = ob_get_clean();
} elseif ( 'checkout' === $scenario ) {
	do_action( 'template_redirect' );
	$classic = new WC_Order();
	$block   = new WC_Order();
	do_action( 'woocommerce_checkout_create_order', $classic, array() );
	do_action( 'woocommerce_store_api_checkout_update_order_from_request', $block, null );
	$result['classic_meta'] = $classic->meta;
	$result['block_meta']   = $block->meta;
	$result['cookie']       = $_COOKIE['tm_click'] ?? null;
} elseif ( 'coupon' === $scenario ) {
	do_action( 'template_redirect' );
	$result['applied_on_landing'] = WC()->cart->applied;
	WC()->cart->items = 1;
	do_action( 'woocommerce_add_to_cart' );
	$result['applied_after_add'] = WC()->cart->applied;
	$result['pending'] = WC()->session->get( 'tastemaker_pending_coupon' );
	$result['session_cookie'] = WC()->session->has_session();
}

$result['registered'] = $GLOBALS['tm']['registered'];
$result['enqueued']   = $GLOBALS['tm']['enqueued'];
$result['blocks']     = $GLOBALS['tm']['blocks'];
echo json_encode( $result );
