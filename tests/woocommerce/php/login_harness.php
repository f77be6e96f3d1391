<?php
/**
 * Runs the plugin's wp-admin sign-in page and button under minimal WordPress stand-ins and prints
 * what happened as JSON. Usage: php login_harness.php <scenario> <json input>
 * (see test_wp_admin_login.py).
 */

define( 'ABSPATH', __DIR__ . '/' );

$input = json_decode( $argv[2] ?? '{}', true );
$GLOBALS['tm'] = array(
	'options'  => array( 'tastemaker_settings' => $input['settings'] ?? array() ),
	'can'      => $input['can'] ?? array(),
	'menus'    => array(),
	'actions'  => array(),
	'redirect' => null,
	'died'     => null,
);
$_POST = $input['post'] ?? array();

function add_action( $hook, $callback ) {
	$GLOBALS['tm']['actions'][ $hook ] = $callback;
}
function do_action( $hook ) {
	call_user_func( $GLOBALS['tm']['actions'][ $hook ] );
}
function add_submenu_page( $parent, $title, $menu, $capability, $slug, $callback ) {
	$GLOBALS['tm']['menus'][] = array( $parent, $capability, $slug );
}
function current_user_can( $capability ) {
	return in_array( $capability, $GLOBALS['tm']['can'], true );
}
function get_option( $name, $default = false ) {
	return $GLOBALS['tm']['options'][ $name ] ?? $default;
}
function untrailingslashit( $value ) {
	return rtrim( $value, '/\\' );
}
function __( $text ) {
	return $text;
}
function esc_html__( $text ) {
	return htmlspecialchars( $text, ENT_QUOTES, 'UTF-8' );
}
function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}
function esc_url( $url ) {
	return $url;
}
function admin_url( $path ) {
	return 'https://store.example/wp-admin/' . $path;
}
function wp_nonce_field( $action ) {
	echo '<input type="hidden" name="_wpnonce" value="nonce-for-' . esc_attr( $action ) . '" />';
}
function submit_button( $text ) {
	echo '<button type="submit">' . esc_html( $text ) . '</button>';
}
function check_admin_referer( $action ) {
	if ( ( $_POST['_wpnonce'] ?? '' ) !== 'nonce-for-' . $action ) {
		wp_die( 'The link you followed has expired.', 403 );
	}
}
function wp_die( $message, $status ) {
	$GLOBALS['tm']['died'] = array( $message, $status );
	exit;
}
function nocache_headers() {
}
function wp_redirect( $location ) {
	$GLOBALS['tm']['redirect'] = $location;
	return true;
}

register_shutdown_function(
	static function () {
		echo json_encode(
			array(
				'menus'    => $GLOBALS['tm']['menus'],
				'redirect' => $GLOBALS['tm']['redirect'],
				'died'     => $GLOBALS['tm']['died'],
				'output'   => $GLOBALS['tm']['output'] ?? '',
				'link'     => $GLOBALS['tm']['link'] ?? null,
			)
		);
	}
);

$plugin = dirname( __DIR__, 3 ) . '/widgets/woocommerce/tastemaker/includes/';
require $plugin . 'class-tastemaker-settings.php';
require $plugin . 'class-tastemaker-admin-login.php';
Tastemaker_Admin_Login::init();
do_action( 'admin_menu' );

switch ( $argv[1] ?? '' ) {
	case 'link':
		$GLOBALS['tm']['link'] = Tastemaker_Admin_Login::login_link(
			$input['url'],
			$input['public_key'],
			$input['secret'],
			$input['now'],
			$input['nonce']
		);
		break;
	case 'page':
		ob_start();
		Tastemaker_Admin_Login::render_page();
		$GLOBALS['tm']['output'] = ob_get_clean();
		break;
	case 'open':
		do_action( 'admin_post_tastemaker_open' );
		break;
}
