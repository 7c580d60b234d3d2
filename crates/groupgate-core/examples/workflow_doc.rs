//! Prints the generated parts of `docs/workflow.md`: the Mermaid diagram and
//! the transition table (`cargo run -p groupgate-core --example workflow_doc`).

fn main() {
    println!(
        "```mermaid\n{}```\n",
        groupgate_core::workflow::mermaid_diagram()
    );
    print!("{}", groupgate_core::workflow::transition_table());
}
