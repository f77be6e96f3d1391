<?php
/**
 * Runs the plugin's API-key revoke route under minimal WordPress stand-ins, with the store's
 * `woocommerce_api_keys` rows in memory, and prints what happened as JSON.
 * Usage: php api_keys_harness.php <json input> (see test_companion_api_keys.py).
 */

define( 'ABSPATH', __DIR__ . '/' );

$input = json_decode( $argv[1] ?? '{}', true );
$GLOBALS['tm'] = array(
	'options' => array( 'tastemaker_settings' => $input['settings'] ?? array() ),
	'actions' => array(),
	'routes'  => array(),
);

function add_action( $hook, $callback ) {
	$GLOBALS['tm']['actions'][ $hook ] = $callback;
}
function do_action( $hook ) {
	call_user_func( $GLOBALS['tm']['actions'][ $hook ] );
}
function register_rest_route( $namespace, $route, $args ) {
	$GLOBALS['tm']['routes'][] = array( $namespace, $route, $args['methods'], $args['permission_callback'] );
}
function get_option( $name, $default = false ) {
	return $GLOBALS['tm']['options'][ $name ] ?? $default;
}
function untrailingslashit( $value ) {
	return rtrim( $value, '/\\' );
}

/**
 * The key table as $wpdb sees it: prepare() keeps the arguments, get_row() and delete() use them.
 */
final class Fake_Wpdb {
	public $prefix = 'wp_';
	public $rows   = array();

	public function prepare( $query, ...$args ) {
		return array( $query, $args );
	}

	public function get_row( $prepared ) {
		list( $query, $args ) = $prepared;
		if ( false === strpos( $query, 'FROM wp_woocommerce_api_keys WHERE key_id = %d' ) ) {
			throw new RuntimeException( 'unexpected query ' . $query );
		}
		foreach ( $this->rows as $row ) {
			if ( (int) $row['key_id'] === (int) $args[0] ) {
				return (object) $row;
			}
		}
		return null;
	}

	public function delete( $table, $where, $format ) {
		if ( 'wp_woocommerce_api_keys' !== $table || array( '%d' ) !== $format ) {
			throw new RuntimeException( 'unexpected delete from ' . $table );
		}
		$before     = count( $this->rows );
		$this->rows = array_values(
			array_filter(
				$this->rows,
				static function ( $row ) use ( $where ) {
					return (int) $row['key_id'] !== (int) $where['key_id'];
				}
			)
		);
		return $before - count( $this->rows );
	}
}

$GLOBALS['wpdb']       = new Fake_Wpdb();
$GLOBALS['wpdb']->rows = $input['keys'] ?? array();

$plugin = dirname( __DIR__, 3 ) . '/widgets/woocommerce/tastemaker/includes/';
require $plugin . 'class-tastemaker-settings.php';
require $plugin . 'class-tastemaker-api-keys.php';
Tastemaker_Api_Keys::init();
do_action( 'rest_api_init' );

list( $status, $body ) = Tastemaker_Api_Keys::handle( $input['request'] ?? array(), (int) ( $input['now'] ?? time() ) );
echo json_encode(
	array(
		'routes' => $GLOBALS['tm']['routes'],
		'status' => $status,
		'body'   => $body,
		'keys'   => array_map( 'intval', array_column( $GLOBALS['wpdb']->rows, 'key_id' ) ),
	)
);
