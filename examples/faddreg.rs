use daa_gen::config::Config;
fn main() {
    let cfg = Config::default();
    let dir = std::path::Path::new(&std::env::args().nth(1).unwrap()).to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    let u = daa_gen::rtl::units::unit("fadd").unwrap();
    for f in (u.build)(&cfg).unwrap() {
        std::fs::write(dir.join(f.file_name()), f.text).unwrap();
    }
    std::fs::write(dir.join("fadd_reg.v"), "module fadd_reg (input wire clock, input wire [31:0] a, input wire [31:0] b, output reg [31:0] s);\n reg [31:0] ra, rb; wire [31:0] sum;\n daa_fp32_daa_8x8_fadd u (.a(ra), .b(rb), .s(sum));\n always @(posedge clock) begin ra <= a; rb <= b; s <= sum; end\nendmodule\n").unwrap();
}
