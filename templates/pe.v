// Ports: operands are F_in codes ({{ width }} bits); acc is binary32.
// Latency: a beat presented with en=1 at cycle t is in acc after the clock edge ending cycle t+{{ latency - 1 }}.
module {{ name }}_pe (
    input wire clock,
    input wire rst,
    input wire en,
    input wire first,
    input wire [{{ width - 1 }}:0] a0,
    input wire [{{ width - 1 }}:0] b0,
{%- if dual %}
    input wire [{{ width - 1 }}:0] a1,
    input wire [{{ width - 1 }}:0] b1,
    output wire high,
{%- endif %}
    output wire [31:0] acc
);
{%- if pad > 0 %}
    // The core's units are built at 32-bit width; the unused code bits are tied to zero.
    localparam [{{ pad - 1 }}:0] PAD = {{ pad }}'d0;
{%- endif %}
    {{ name }}_pe_core u_core (
        .clock(clock),
        .rst(rst),
        .en(en),
        .first(first),
{%- if pad > 0 %}
        .a0({PAD, a0}),
        .b0({PAD, b0}),
{%- if dual %}
        .a1({PAD, a1}),
        .b1({PAD, b1}),
        .high(high),
{%- endif %}
{%- else %}
        .a0(a0),
        .b0(b0),
{%- if dual %}
        .a1(a1),
        .b1(b1),
        .high(high),
{%- endif %}
{%- endif %}
        .acc(acc)
    );
endmodule
